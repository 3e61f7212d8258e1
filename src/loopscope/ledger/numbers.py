"""Numbers written so that they read back exactly, and big round ones readably (``22.4e9``)."""

from __future__ import annotations


def format_number(value: float | int) -> str:
    """Numbers as YAML 1.2 reads them back exactly; big round ones with an exponent (``22.4e9``)."""
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(value, int):
        return str(value)
    if value.is_integer():
        if abs(value) >= 1e6:
            for exponent in (12, 9, 6):
                mantissa = repr(value / 10**exponent)
                if abs(value) >= 10**exponent and "e" not in mantissa:
                    text = (mantissa[:-2] if mantissa.endswith(".0") else mantissa) + f"e{exponent}"
                    if float(text) == value:
                        return text
            text = repr(value)
            return text if "e" in text else str(int(value))
        return str(int(value))
    return repr(value)
