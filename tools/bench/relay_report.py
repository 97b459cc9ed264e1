#!/usr/bin/env python3
"""tools/bench/relay_report.py SAMPLES.jsonl OUT_DIR META_JSON — the report of bench_relay.sh.

Reads one JSON line per measurement (scenario, size, phase, round, relay CPU snapshots before and
after, xturnd's relayed-packet counters, xturn-load's JSON summary), takes the median over rounds of
each figure, and writes: a table and `BENCH <name> <value> <unit>` lines on stdout,
OUT_DIR/results.json, and OUT_DIR/relay.png (gnuplot; skipped with a note if gnuplot is missing).
Exit status 1 when a scenario/size has no sample at all.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys

SCENARIOS = ["fastpath", "afxdp", "coturn", "reflector"]


def figures(sample):
    """Per-measurement figures from one sample line."""
    load = sample["load"]
    d = [a - b for a, b in zip(sample["cpu_after"], sample["cpu_before"])]
    proc_ns, napi_ns, ksoftirqd_ns, cpu1_ns = d
    cpu_ns = proc_ns + napi_ns
    # packets that crossed the relay: to the peer (echoed there) and back to the client
    relayed = load["received"] + (load["echoed"] if sample["scenario"] != "reflector" else 0)
    secs = load["seconds"] or 1e-9
    f = {
        "relayed": relayed,
        "delivered_pps": relayed / secs,
        "client_pps": load["received_pps"],
        "offered_pps": load["sent_pps"],
        "loss_pct": load["loss_pct"],
        "p50_us": load["rtt_us"]["p50"],
        "p99_us": load["rtt_us"]["p99"],
        "p999_us": load["rtt_us"]["p999"],
        "cpu_us_per_pkt": cpu_ns / 1000.0 / relayed if relayed else None,
        "cpu_proc_us_per_pkt": proc_ns / 1000.0 / relayed if relayed else None,
        "cpu_napi_us_per_pkt": napi_ns / 1000.0 / relayed if relayed else None,
        "ksoftirqd1_us_per_pkt": ksoftirqd_ns / 1000.0 / relayed if relayed else None,
        "cpu1_us_per_pkt": cpu1_ns / 1000.0 / relayed if relayed else None,
        "relay_cpu_pct": 100.0 * cpu_ns / 1e9 / secs,
        "reordered": load["reordered"],
        "bad": load["bad"],
        "gen_mode": load["mode"],
    }
    db, da = sample.get("drops_before"), sample.get("drops_after")
    if db and da and len(db) == 7 and len(da) == 7:
        dd = [a - b for a, b in zip(da, db)]
        # relay end: rx_drop, tx_drop, xdp_tx_errors; generator end: the same
        # veth counts one drop on both ends: a full ring at the relay end shows as the
        # generator's tx_drop; a full ring at the generator's end as the relay's tx_drop
        # (and xdp_tx_errors for XDP_TX frames)
        f["drops_into_relay"] = dd[0] + dd[4]
        f["drops_into_gen"] = max(dd[1], dd[2], dd[3])
        f["drops_relay_socket"] = dd[6]
        for i, name in enumerate(("relay_rx_drop", "relay_tx_drop", "relay_xdp_tx_err",
                                  "gen_rx_drop", "gen_tx_drop", "gen_xdp_tx_err")):
            f["drops_" + name] = dd[i]
    xsk = load.get("xsk", {})
    f["drops_gen_xsk"] = xsk.get("rx_dropped", 0) + xsk.get("rx_ring_full", 0)
    mb, ma = sample.get("metrics_before"), sample.get("metrics_after")
    if mb and ma and len(mb) == 2 and len(ma) == 2:
        f["xturnd_relayed_ebpf"] = ma[0] - mb[0]
        f["xturnd_relayed_userspace"] = ma[1] - mb[1]
    return f


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main():
    samples_path, out_dir, meta = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    samples = []
    with open(samples_path) as fh:
        for line in fh:
            line = line.strip()
            if line:
                s = json.loads(line)
                s["figures"] = figures(s)
                samples.append(s)
    sizes = sorted({s["size"] for s in samples})
    present = [sc for sc in SCENARIOS if any(s["scenario"] == sc for s in samples)]

    summary = {}
    for sc in present:
        for size in sizes:
            for phase in ("fixed", "sat"):
                group = [s["figures"] for s in samples
                         if s["scenario"] == sc and s["size"] == size and s["phase"] == phase]
                if not group:
                    continue
                keys = [k for k in group[0] if isinstance(group[0][k], (int, float))]
                agg = {k: median([g.get(k) for g in group]) for k in keys}
                agg["rounds"] = len(group)
                agg["gen_mode"] = group[0]["gen_mode"]
                summary.setdefault(f"{sc}_{size}", {})[phase] = agg

    def get(sc, size, phase, key):
        return summary.get(f"{sc}_{size}", {}).get(phase, {}).get(key)

    # ---- table ----
    print()
    print("relay benchmark (medians over %d round(s); load average before %s, after %s)"
          % (meta["rounds"], meta["load_before"], meta["load_after"]))
    hdr = ("%-10s %5s | %-44s | %-38s" %
           ("scenario", "size", "fixed rate: delivered  loss%  us/pkt  p50  p99",
            "saturation: delivered  loss%  us/pkt  p99"))
    print(hdr)
    print("-" * len(hdr))

    def fmt(v, spec):
        return spec % v if v is not None else "-"

    for sc in present:
        for size in sizes:
            print("%-10s %5d | %10s %6s %7s %6s %6s             | %11s %6s %7s %7s" % (
                sc, size,
                fmt(get(sc, size, "fixed", "delivered_pps"), "%.0f"),
                fmt(get(sc, size, "fixed", "loss_pct"), "%.2f"),
                fmt(get(sc, size, "fixed", "cpu_us_per_pkt"), "%.2f"),
                fmt(get(sc, size, "fixed", "p50_us"), "%.0f"),
                fmt(get(sc, size, "fixed", "p99_us"), "%.0f"),
                fmt(get(sc, size, "sat", "delivered_pps"), "%.0f"),
                fmt(get(sc, size, "sat", "loss_pct"), "%.2f"),
                fmt(get(sc, size, "sat", "cpu_us_per_pkt"), "%.2f"),
                fmt(get(sc, size, "sat", "p99_us"), "%.0f")))
    print("delivered = packets/s the relay delivered, both directions; us/pkt = relay-core CPU "
          "(relay process + relay NAPI thread) per delivered packet")
    for sc in present:
        for size in sizes:
            for phase in ("fixed", "sat"):
                a = summary.get(f"{sc}_{size}", {}).get(phase)
                if not a or not a.get("loss_pct"):
                    continue
                print("  lost %-9s %4d %-5s %.3f%%: relay's ring full %s, relay's socket full %s, "
                      "generator's ring full %s, generator's socket %s (medians, packets)" % (
                          sc, size, phase, a["loss_pct"], fmt(a.get("drops_into_relay"), "%.0f"),
                          fmt(a.get("drops_relay_socket"), "%.0f"),
                          fmt(a.get("drops_into_gen"), "%.0f"), fmt(a.get("drops_gen_xsk"), "%.0f")))
    print()

    # ---- BENCH lines ----
    bench = []

    def emit(name, value, unit, spec="%.3f"):
        if value is None:
            return
        bench.append({"name": name, "value": value, "unit": unit})
        print("BENCH %s %s %s" % (name, spec % value, unit))

    for sc in present:
        for size in sizes:
            t = f"{sc}_{size}"
            emit(f"relay_cpu_us_per_pkt_{t}", get(sc, size, "sat", "cpu_us_per_pkt"), "us")
            emit(f"relay_cpu_us_per_pkt_fixed_{t}", get(sc, size, "fixed", "cpu_us_per_pkt"),
                 "us")
            emit(f"delivered_pps_{t}", get(sc, size, "sat", "delivered_pps"), "pps", "%.0f")
            emit(f"delivered_pps_fixed_{t}", get(sc, size, "fixed", "delivered_pps"), "pps",
                 "%.0f")
            emit(f"loss_pct_{t}", get(sc, size, "sat", "loss_pct"), "%")
            emit(f"loss_pct_fixed_{t}", get(sc, size, "fixed", "loss_pct"), "%")
            emit(f"p50_us_{t}", get(sc, size, "fixed", "p50_us"), "us", "%.1f")
            emit(f"p99_us_{t}", get(sc, size, "fixed", "p99_us"), "us", "%.1f")
            emit(f"p99_us_sat_{t}", get(sc, size, "sat", "p99_us"), "us", "%.1f")
    ratios = {}
    for size in sizes:
        for a, b in (("fastpath", "coturn"), ("afxdp", "coturn"), ("fastpath", "reflector"),
                     ("afxdp", "reflector")):
            for phase, suffix in (("sat", ""), ("fixed", "_fixed")):
                va = get(a, size, phase, "cpu_us_per_pkt")
                vb = get(b, size, phase, "cpu_us_per_pkt")
                if va and vb:
                    ratios[f"cpu_{a}_vs_{b}{suffix}_{size}"] = va / vb
                    emit(f"ratio_cpu_{a}_vs_{b}{suffix}_{size}", va / vb, "x")
        for a in ("fastpath", "afxdp"):
            va = get(a, size, "sat", "delivered_pps")
            vb = get("coturn", size, "sat", "delivered_pps")
            if va and vb:
                ratios[f"pps_{a}_vs_coturn_{size}"] = va / vb
                emit(f"ratio_pps_{a}_vs_coturn_{size}", va / vb, "x")

    # ---- results.json ----
    os.makedirs(out_dir, exist_ok=True)
    result = {"meta": meta, "summary": summary, "ratios": ratios, "bench": bench,
              "samples": samples}
    with open(os.path.join(out_dir, "results.json"), "w") as fh:
        json.dump(result, fh, indent=1)
    print("bench_relay: wrote %s" % os.path.join(out_dir, "results.json"))

    # ---- plot ----
    plot(out_dir, present, sizes, get, meta)

    missing = [f"{sc}_{size}" for sc in present for size in sizes
               if f"{sc}_{size}" not in summary]
    if missing or not present:
        print("bench_relay: no samples for %s" % (", ".join(missing) or "any scenario"),
              file=sys.stderr)
        return 1
    return 0


def plot(out_dir, present, sizes, get, meta):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        print("bench_relay: gnuplot not installed: no plot")
        return
    terms = subprocess.run([gnuplot, "-e", "set terminal"], capture_output=True, text=True)
    term = "pngcairo" if "pngcairo" in (terms.stdout + terms.stderr) else "png"
    data = os.path.join(out_dir, "relay.dat")
    with open(data, "w") as fh:
        fh.write("# scenario " + " ".join(
            f"cpu_{s} kpps_{s}" for s in sizes) + "\n")
        for sc in present:
            cols = []
            for size in sizes:
                cpu = get(sc, size, "sat", "cpu_us_per_pkt")
                pps = get(sc, size, "sat", "delivered_pps")
                cols.append("%s %s" % ("%.4f" % cpu if cpu is not None else "NaN",
                                       "%.2f" % (pps / 1000) if pps is not None else "NaN"))
            fh.write("%s %s\n" % (sc, " ".join(cols)))
    png = os.path.join(out_dir, "relay.png")
    cpu_cols = ", ".join(
        "'%s' using %d:xtic(1) title '%d B'" % (data, 2 + 2 * i, s) for i, s in enumerate(sizes))
    pps_cols = ", ".join(
        "'%s' using %d:xtic(1) title '%d B'" % (data, 3 + 2 * i, s) for i, s in enumerate(sizes))
    script = f"""
set terminal {term} size 1100,480
set output '{png}'
set multiplot layout 1,2 title "xturn relay benchmark ({meta['cpus']} CPUs, load avg {meta['load_before']}; medians of {meta['rounds']} rounds)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
set title 'relay-core CPU per relayed packet (us), saturation'
plot {cpu_cols}
set title 'delivered packets/s at saturation (k, both directions)'
plot {pps_cols}
unset multiplot
"""
    r = subprocess.run([gnuplot], input=script, capture_output=True, text=True)
    if r.returncode != 0:
        print("bench_relay: gnuplot failed: %s" % r.stderr.strip()[:300])
    else:
        print("bench_relay: wrote %s" % png)


if __name__ == "__main__":
    sys.exit(main())
