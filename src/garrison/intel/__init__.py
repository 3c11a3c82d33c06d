"""Threat intelligence: indicators, their sources and feeds, warninglists and exports."""
