"""Options, config loading and time arguments shared by the tools' commands."""
