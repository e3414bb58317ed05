#!/usr/bin/env python3
"""md2man - turn the project's Markdown docs into man pages (roff).

Handles what docs/ uses: headings, paragraphs, bullet lists, fenced code,
tables, `code` and **bold**. Usage: md2man.py NAME SECTION DATE IN.md OUT
"""
import re
import sys


def inline(text):
    text = text.replace("\\", "\\e")
    text = re.sub(r"\*\*(.+?)\*\*", r"\\fB\1\\fR", text)
    text = re.sub(r"`([^`]+)`", r"\\fB\1\\fR", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    return text


def line_out(text):
    # a line starting with . or ' would be a roff request
    if text.startswith((".", "'")):
        return "\\&" + text
    return text


def convert(name, section, date, lines):
    out = ['.TH "%s" "%s" "%s" "mailwarden" "mailwarden manual"' % (name.upper(), section, date)]
    in_code = False
    para = []

    def flush():
        if para:
            out.append(".PP")
            out.append(line_out(inline(" ".join(para))))
            para.clear()

    title_done = False
    for raw in lines:
        line = raw.rstrip("\n")
        if line.startswith("```"):
            flush()
            out.append(".fi" if in_code else ".nf")
            if in_code:
                out.append(".RE")
            else:
                out.insert(len(out) - 1, ".RS 4")
            in_code = not in_code
            continue
        if in_code:
            out.append(line_out(line.replace("\\", "\\e")))
            continue
        if line.startswith("#"):
            flush()
            level = len(line) - len(line.lstrip("#"))
            text = line.lstrip("#").strip()
            if level == 1 and not title_done:
                out.append(".SH NAME")
                out.append(line_out(inline(text)))
                title_done = True
            elif level <= 2:
                out.append('.SH "%s"' % inline(text).upper())
            else:
                out.append('.SS "%s"' % inline(text))
            continue
        if line.startswith("|"):
            flush()
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if all(re.fullmatch(r":?-+:?", c) for c in cells if c):
                continue
            out.append(".TP")
            out.append(line_out(inline(cells[0])))
            out.append(line_out(inline(" \\(em ".join(c for c in cells[1:] if c))))
            continue
        m = re.match(r"^(\s*)[-*] (.*)", line)
        if m:
            flush()
            out.append(".IP \\(bu 2")
            out.append(line_out(inline(m.group(2))))
            continue
        if not line.strip():
            flush()
            continue
        para.append(line.strip())
    flush()
    return "\n".join(out) + "\n"


def main():
    name, section, date, src, dst = sys.argv[1:6]
    with open(src, encoding="utf-8") as f:
        text = convert(name, section, date, f.readlines())
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
