"""Every label of the report, in English and German."""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "title": {"en": "loopscope: circular financing in {name}", "de": "loopscope: Kreislauffinanzierung in {name}"},
    "as_of": {"en": "as of {date}", "de": "Stand {date}"},
    "all_dates": {"en": "all deals up to {date}", "de": "alle Deals bis {date}"},
    "generated": {"en": "Made with loopscope {version} from the ledger {name}.",
                  "de": "Erstellt mit loopscope {version} aus dem Ledger {name}."},
    "headline": {"en": "Headline figures", "de": "Die wichtigsten Zahlen"},
    "gross": {"en": "Gross volume of live deals", "de": "Bruttovolumen der laufenden Deals"},
    "circulated": {"en": "Can go round in circles (max circulation)", "de": "Kann im Kreis fließen (max. Zirkulation)"},
    "circularity": {"en": "Share that goes in circles", "de": "Anteil, der im Kreis fließt"},
    "one_way": {"en": "One-way money", "de": "Geld, das nur in eine Richtung fließt"},
    "outside": {"en": "New money from net payers", "de": "Neues Geld von Nettozahlern"},
    "round_trips": {"en": "Round trips (up to {k} parties)", "de": "Kreisläufe (bis {k} Parteien)"},
    "largest": {"en": "Largest round trip", "de": "Größter Kreislauf"},
    "range": {"en": "range {low} to {high}", "de": "Spanne {low} bis {high}"},
    "at_low_high": {"en": "{low} at the low, {high} at the high amounts", "de": "{low} bei den unteren, {high} bei den oberen Beträgen"},
    "undisclosed_note": {"en": "{n} deals have no disclosed amount: they appear in the network and in round trips but count 0 in every sum.",
                         "de": "{n} Deals haben keinen genannten Betrag: Sie erscheinen im Netz und in Kreisläufen, zählen aber in jeder Summe 0."},
    "estimate_note": {"en": "{x} of the gross volume is estimated, a range or 'up to'.",
                      "de": "{x} des Bruttovolumens sind geschätzt, eine Spanne oder 'bis zu'."},
    "network": {"en": "The network", "de": "Das Netzwerk"},
    "network_help": {"en": "Node size: {metric} (latest figure; grey: none reported). Edge: one deal, coloured by kind, width by amount; dashed: amount estimated, a range or 'up to'; dotted: undisclosed. Hover for details, scroll to zoom, drag to pan.",
                     "de": "Knotengröße: {metric} (jüngste Zahl; grau: keine gemeldet). Kante: ein Deal, Farbe nach Art, Breite nach Betrag; gestrichelt: Betrag geschätzt, Spanne oder 'bis zu'; gepunktet: nicht genannt. Zeigen für Details, Mausrad zum Zoomen, Ziehen zum Verschieben."},
    "search": {"en": "Find a party", "de": "Partei suchen"},
    "reset": {"en": "Show all", "de": "Alles zeigen"},
    "legend": {"en": "Deal kinds", "de": "Deal-Arten"},
    "cycles": {"en": "Round trips", "de": "Kreisläufe"},
    "cycles_help": {"en": "Every cycle of money up to {k} parties, largest first: the amount is the smallest step (the most that can go round). Select one to highlight it in the network.",
                    "de": "Jeder Geldkreislauf bis {k} Parteien, der größte zuerst: der Betrag ist der kleinste Schritt (das Höchste, was kreisen kann). Auswählen hebt ihn im Netzwerk hervor."},
    "cycles_shown": {"en": "{shown} of {total} shown.", "de": "{shown} von {total} gezeigt."},
    "in_time_order": {"en": "in time order", "de": "zeitlich geordnet"},
    "exposure": {"en": "Per company", "de": "Je Unternehmen"},
    "exposure_help": {"en": "Inflow that can be the party's own money coming back (max flow through it), customer concentration of its revenue inflows (Herfindahl index, 1 = one customer), its top customer's commitments against its reported backlog, and its commitments in years of revenue.",
                      "de": "Zufluss, der eigenes Geld sein kann, das zurückkommt (maximaler Fluss durch die Partei), Kundenkonzentration der Umsatzzuflüsse (Herfindahl-Index, 1 = ein Kunde), Zusagen des größten Kunden gegen den gemeldeten Auftragsbestand und eigene Verpflichtungen in Jahresumsätzen."},
    "party": {"en": "Party", "de": "Partei"},
    "inflow": {"en": "Inflow", "de": "Zufluss"},
    "outflow": {"en": "Outflow", "de": "Abfluss"},
    "round_tripped": {"en": "Own money back", "de": "Eigenes Geld zurück"},
    "top_customer": {"en": "Top customer", "de": "Größter Kunde"},
    "hhi": {"en": "HHI", "de": "HHI"},
    "backlog": {"en": "Top customer's share of backlog", "de": "Anteil des größten Kunden am Auftragsbestand"},
    "commitments": {"en": "Commitments", "de": "Verpflichtungen"},
    "revenue": {"en": "Annual revenue", "de": "Jahresumsatz"},
    "years": {"en": "Years of revenue", "de": "Jahresumsätze"},
    "backlog_note": {"en": "{party}: {customer}'s commitments ({amount}) are {share} of the backlog of {rpo} reported for {date}.",
                     "de": "{party}: die Zusagen von {customer} ({amount}) sind {share} des für {date} gemeldeten Auftragsbestands von {rpo}."},
    "reported_note": {"en": "Sources report {values}.", "de": "Quellen nennen {values}."},
    "charts_inflow": {"en": "Inflow and the part that can be own money coming back", "de": "Zufluss und der Teil, der eigenes Geld sein kann"},
    "charts_years": {"en": "Commitments in years of revenue", "de": "Verpflichtungen in Jahresumsätzen"},
    "not_yet": {"en": "Not in this version yet: {what}.", "de": "In dieser Version noch nicht enthalten: {what}."},
    "stress_gap": {"en": "stress tests and the funding gap (they arrive with loopscope's stress-test module)",
                   "de": "Stresstests und Finanzierungslücke (sie kommen mit dem Stresstest-Modul von loopscope)"},
    "methods": {"en": "Methods", "de": "Methoden"},
    "datasheet": {"en": "The dataset", "de": "Der Datensatz"},
    "sources": {"en": "Sources", "de": "Quellen"},
    "sources_help": {"en": "Every page the deals and figures cite, with the deals and figures that cite it.",
                     "de": "Jede Seite, die Deals und Zahlen zitieren, mit den Deals und Zahlen, die sie zitieren."},
    "deal": {"en": "Deal", "de": "Deal"},
    "amount": {"en": "Amount", "de": "Betrag"},
    "announced": {"en": "Announced", "de": "Angekündigt"},
    "status": {"en": "Status", "de": "Status"},
    "source": {"en": "Source", "de": "Quelle"},
    "kind": {"en": "Kind", "de": "Art"},
    "no_cycles": {"en": "No round trips.", "de": "Keine Kreisläufe."},
    "language": {"en": "Deutsch", "de": "English"},
}

KIND_NAMES: dict[str, dict[str, str]] = {
    "equity": {"en": "equity", "de": "Beteiligung"},
    "purchase": {"en": "purchase", "de": "Kauf"},
    "credits": {"en": "credits", "de": "Guthaben"},
    "warrant": {"en": "warrant", "de": "Optionsschein"},
    "backstop": {"en": "backstop", "de": "Abnahmegarantie"},
    "loan": {"en": "loan", "de": "Kredit"},
    "lease": {"en": "lease", "de": "Miete"},
}

METHODS: list[dict[str, str]] = [
    {
        "name": "Round trips",
        "en": "Every simple cycle of the party graph up to the length bound, found once from its smallest party; its amount is the smallest step, summed over the deals between each pair (Johnson 1975; Gupta & Suzumura 2021). Time-ordered round trips: each step no earlier than the one before (Kumar & Calders 2018).",
        "de": "Jeder einfache Kreis des Parteiengraphen bis zur Längengrenze, einmal gefunden ab seiner kleinsten Partei; sein Betrag ist der kleinste Schritt, summiert über die Deals zwischen zwei Parteien (Johnson 1975; Gupta & Suzumura 2021). Zeitlich geordnete Kreisläufe: jeder Schritt nicht früher als der vorige (Kumar & Calders 2018).",
    },
    {
        "name": "Maximum circulation",
        "en": "The largest circulation that fits under the flows while every party keeps its net position, a minimum-cost-flow problem solved exactly as a linear programme; circularity = circulated / gross volume (Homs-Dones, MacKay, Sansom & Zhou 2025; D'Errico & Roukny 2021).",
        "de": "Die größte Zirkulation, die unter die Flüsse passt, während jede Partei ihre Nettoposition behält, ein Min-Cost-Flow-Problem, exakt als lineares Programm gelöst; Zirkularität = zirkulierend / Bruttovolumen (Homs-Dones, MacKay, Sansom & Zhou 2025; D'Errico & Roukny 2021).",
    },
    {
        "name": "Helmholtz-Hodge decomposition",
        "en": "Net flows split into a potential part (a hierarchy: who sits upstream) and a loop part by weighted least squares on the graph Laplacian; loop ratio = loop energy / total (Jiang, Lim, Yao & Ye 2011; Kichikawa et al. 2019). Blind to reciprocal pairs: read it beside max circulation.",
        "de": "Nettoflüsse zerlegt in einen Potenzialteil (eine Hierarchie: wer steht oben) und einen Kreisteil, durch gewichtete kleinste Quadrate auf dem Graph-Laplace; Kreisanteil = Kreisenergie / gesamt (Jiang, Lim, Yao & Ye 2011; Kichikawa et al. 2019). Blind für gegenseitige Paare: neben der max. Zirkulation lesen.",
    },
    {
        "name": "Finn's cycling index",
        "en": "The share of total throughflow that returns to where it passed before, from the Leontief-type inverse of the flow-fraction matrix (Finn 1976; enaR). Boundary rule for an open money network: inputs are net payments out of a party.",
        "de": "Der Anteil des gesamten Durchflusses, der dorthin zurückkehrt, wo er schon war, aus der Leontief-artigen Inversen der Flussanteilsmatrix (Finn 1976; enaR). Randregel für ein offenes Geldnetz: Zuflüsse sind Nettozahlungen einer Partei.",
    },
    {
        "name": "Reciprocity",
        "en": "The share of flows directly matched by a flow back, Σ min(w_ij, w_ji) / Σ w_ij (Squartini, Picciolo, Ruzzenenti & Garlaschelli 2013).",
        "de": "Der Anteil der Flüsse, dem direkt ein Rückfluss gegenübersteht, Σ min(w_ij, w_ji) / Σ w_ij (Squartini, Picciolo, Ruzzenenti & Garlaschelli 2013).",
    },
    {
        "name": "Per company",
        "en": "Own money back: the maximum flow from a party back to itself (Edmonds & Karp 1972). Concentration: Herfindahl-Hirschman index of revenue inflows by customer (Hirschman 1964). Backlog share: the top customer's commitments announced by the date of the reported backlog, divided by it.",
        "de": "Eigenes Geld zurück: der maximale Fluss von einer Partei zurück zu ihr selbst (Edmonds & Karp 1972). Konzentration: Herfindahl-Hirschman-Index der Umsatzzuflüsse nach Kunden (Hirschman 1964). Anteil am Auftragsbestand: die bis zum Stichtag angekündigten Zusagen des größten Kunden, geteilt durch den gemeldeten Bestand.",
    },
]


def label(key: str, lang: str, **values: object) -> str:
    """The label ``key`` in ``lang``, filled with ``values``."""
    return LABELS[key][lang].format(**values)
