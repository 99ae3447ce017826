#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Every metric a dashboard or alert rule names must be one nattravd exports.

usage: check_metric_refs.py SCRAPE.txt docs/grafana/nattrav.json docs/prometheus/alerts.yml

Reads the metric families from a /metrics scrape (its # TYPE lines), takes
every PromQL expression from the dashboard's targets and the rules' expr
fields, and prints each name an expression uses that is not exported.
Exit 1 when there is one, or when a file holds no expression at all.
"""
import json
import re
import sys

# PromQL words that look like metric names but are not
PROMQL = {
    "sum", "rate", "irate", "increase", "by", "without", "and", "or", "unless", "on",
    "ignoring", "group_left", "group_right", "time", "avg", "max", "min", "count",
    "topk", "bottomk", "absent", "histogram_quantile", "label_values", "offset",
    "bool", "delta", "deriv", "abs", "clamp_min", "clamp_max", "vector", "scalar",
}
# Prometheus' own series about a scrape target, present beside any exporter's
PROMETHEUS_OWN = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}


def exported(scrape):
    names = set()
    for line in open(scrape):
        m = re.match(r"# TYPE (\S+) (\w+)", line)
        if m:
            names.add(m.group(1))
    return names


def strip(expr):
    """Drop what is not a name: label matchers, strings, ranges, $variables."""
    expr = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\$\w+", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    return expr


def names_in(expr):
    return {
        t for t in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", strip(expr))
        if t not in PROMQL and not re.fullmatch(r"\d.*|e\d+", t)
    }


def dashboard_exprs(path):
    out = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                out.append(node["expr"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(json.load(open(path)))
    return out


def rule_exprs(path):
    # the rules file is YAML; its expr fields are plain or "|" blocks
    out, block, indent = [], None, 0
    for line in open(path):
        if block is not None:
            if line.strip() and len(line) - len(line.lstrip()) > indent:
                block.append(line.strip())
                continue
            out.append(" ".join(block))
            block = None
        m = re.match(r"(\s*)expr:\s*(.*)$", line)
        if m:
            if m.group(2).strip() in ("|", ">", "|-", ">-"):
                block, indent = [], len(m.group(1))
            else:
                out.append(m.group(2).strip())
    if block:
        out.append(" ".join(block))
    return out


def main():
    have = exported(sys.argv[1]) | PROMETHEUS_OWN
    bad = 0
    for path in sys.argv[2:]:
        exprs = dashboard_exprs(path) if path.endswith(".json") else rule_exprs(path)
        if not exprs:
            print(f"{path}: no expressions found")
            bad += 1
        for e in exprs:
            for n in sorted(names_in(e) - have):
                print(f"{path}: {n} is not exported by nattravd (in: {e})")
                bad += 1
        print(f"{path}: {len(exprs)} expressions checked")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
