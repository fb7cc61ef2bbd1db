"""PPA and cost: area, power, unit cost, programme cost, TCO and $/Mtoken."""
