#!/usr/bin/env python3
"""`make install`: turns `vidlabel --experimental-dump-help` (swift-argument-parser's
description of every command, option and default) into a man page on stdout.

Generated from the binary, so the page never drifts from `--help`. Plain roff
(man(7) macros), standard library only.
"""
import json
import sys


def esc(text):
    """roff-safe text: backslashes doubled, leading dots and quotes neutralised."""
    text = (text or "").replace("\\", "\\\\").replace("-", "\\-")
    return "\n".join(("\\&" + l) if l.startswith((".", "'")) else l for l in text.split("\n"))


def names(arg):
    out = []
    for n in arg.get("names", []):
        out.append(("--" if n["kind"] == "long" else "-") + n["name"])
    return out


def option_lines(arg):
    if not arg.get("shouldDisplay", True):
        return []
    if arg["kind"] == "positional":
        head = "\\fI" + esc(arg.get("valueName", "arg")) + "\\fR" + ("..." if arg.get("isRepeating") else "")
    else:
        head = ", ".join("\\fB" + esc(n) + "\\fR" for n in names(arg))
        if arg["kind"] == "option":
            head += " \\fI" + esc(arg.get("valueName", "value")) + "\\fR"
    text = esc(arg.get("abstract", ""))
    if arg.get("defaultValue") not in (None, ""):
        text += " (default: " + esc(arg["defaultValue"]) + ")"
    return [".TP", head, text]


def command_section(cmd, path):
    lines = [".SH " + esc(" ".join(path).upper()) if len(path) > 1 else ".SH OPTIONS"]
    if len(path) > 1:
        lines += [".PP", "\\fB" + esc(" ".join(path)) + "\\fR \\(em " + esc(cmd.get("abstract", ""))]
        if cmd.get("discussion"):
            lines += [".PP", esc(cmd["discussion"])]
    for arg in cmd.get("arguments", []):
        lines += option_lines(arg)
    return lines


def main():
    info = json.load(sys.stdin)["command"]
    root = info["commandName"]
    out = [
        '.TH "%s" "1" "" "" "User Commands"' % root.upper(),
        ".SH NAME",
        "%s \\- %s" % (root, esc(info.get("abstract", ""))),
        ".SH SYNOPSIS",
        "\\fB%s\\fR \\fIcommand\\fR [\\fIoptions\\fR]" % root,
        ".SH COMMANDS",
    ]
    subs = [s for s in info.get("subcommands", []) if s.get("shouldDisplay", True) and s["commandName"] != "help"]
    for s in subs:
        out += [".TP", "\\fB" + esc(s["commandName"]) + "\\fR", esc(s.get("abstract", ""))]
    out += command_section(info, [root])
    for s in subs:
        out += command_section(s, [root, s["commandName"]])
    out += [".SH EXIT STATUS", "0 all fine, 1 some input failed or a check found a regression or violation,",
            "2 usage error, 130 interrupted.",
            ".SH SEE ALSO", "The README of the vidlabel source tree; the report schema in share/vidlabel/schema."]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
