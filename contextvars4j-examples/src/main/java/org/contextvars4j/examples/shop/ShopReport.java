package org.contextvars4j.examples.shop;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The demo's report, as text for the terminal and as an HTML page with SVG charts. */
final class ShopReport {
  private ShopReport() {}

  static String text(ShopDemo.Result result, ShopDemo.Options options) {
    StringBuilder out = new StringBuilder();
    ShopDemo.ModeRun on = result.on();
    ShopDemo.ModeRun off = result.off();
    line(out, "");
    line(out, "Propagation on: contextvars4j's Spring Boot, Logback and OpenTelemetry modules, and the agent");
    mode(out, on);
    line(out, "");
    line(out, "Propagation off: the same services and handlers, without the library's propagation");
    mode(out, off);
    line(out, "");
    line(out, String.format(
        Locale.ROOT,
        "What propagation costs (%s of blocks of %,d requests, on and off in turn, after the same warm-up):",
        result.pairRatios().size() == 1 ? "1 pair" : result.pairRatios().size() + " pairs",
        off.latencies().length / Math.max(1, result.pairRatios().size())));
    line(out, String.format(Locale.ROOT, "  %-10s %12s %9s %9s %9s", "", "throughput", "p50", "p95", "p99"));
    for (ShopDemo.ModeRun run : List.of(on, off)) {
      line(
          out,
          String.format(
              Locale.ROOT,
              "  %-10s %8.0f/s %7.1f ms %6.1f ms %6.1f ms",
              run.mode(),
              run.throughput(),
              run.percentileMillis(50),
              run.percentileMillis(95),
              run.percentileMillis(99)));
    }
    line(
        out,
        String.format(
            Locale.ROOT,
            "  %-10s %10.2f × %7.2f × %7.2f × %7.2f ×   (on over off; time ratios above 1 are the cost)",
            "on / off",
            on.throughput() / off.throughput(),
            on.percentileMillis(50) / off.percentileMillis(50),
            on.percentileMillis(95) / off.percentileMillis(95),
            on.percentileMillis(99) / off.percentileMillis(99)));
    List<Double> pairs = result.pairRatios().stream().sorted().toList();
    List<String> inOrder = new ArrayList<>();
    result.pairRatios().forEach(r -> inOrder.add(String.format(Locale.ROOT, "%.2f", r)));
    line(
        out,
        String.format(
            Locale.ROOT,
            "  throughput on / off, pair by pair: median %.2f, from %.2f to %.2f (%s)",
            pairs.get(pairs.size() / 2),
            pairs.get(0),
            pairs.get(pairs.size() - 1),
            String.join(", ", inOrder)));
    line(out, "");
    line(out, "Checks per mechanism, propagation on (wrong or missing / checked; off beside it):");
    Map<String, long[]> offBy = off.verifier().byMechanism();
    for (Map.Entry<String, long[]> m : on.verifier().byMechanism().entrySet()) {
      long[] o = offBy.getOrDefault(m.getKey(), new long[2]);
      line(
          out,
          String.format(
              Locale.ROOT,
              "  %-16s %,9d / %,10d      off: %,9d / %,9d",
              m.getKey(),
              m.getValue()[1],
              m.getValue()[0],
              o[1],
              o[0]));
    }
    if (!result.sample().isEmpty()) {
      line(out, "");
      line(out, "One request across both services, as their logs have it (propagation on):");
      for (String sample : result.sample()) {
        line(out, "  " + sample);
      }
    }
    line(out, "");
    line(out, "Logs, the report and the page: " + result.report().getParent());
    line(out, "Latency histogram and checks per mechanism: " + result.page().toUri());
    line(
        out,
        result.ok()
            ? String.format(
                Locale.ROOT,
                "OK: %,d requests, %,d values checked, 0 wrong or missing, every fault accounted for,"
                    + " no thread left in a request's context.",
                on.requests(),
                on.verifier().checks())
            : "FAILED: propagation on got values wrong or missed faults; see above.");
    return out.toString();
  }

  private static void mode(StringBuilder out, ShopDemo.ModeRun run) {
    Verifier v = run.verifier();
    // Both services say the same of themselves when they were started the same way.
    line(out, "  services       " + String.join("; ", new LinkedHashSet<>(run.services())));
    line(
        out,
        String.format(
            Locale.ROOT,
            "  requests       %,d (%,d of them timed against the other mode), %,d without an answer",
            run.requests(),
            run.latencies().length,
            v.failedRequests()));
    line(
        out,
        String.format(
            Locale.ROOT,
            "  hops           %,d observations on another thread than their request's handler (%.1f per request)",
            run.hops(),
            (double) run.hops() / run.requests()));
    line(
        out,
        String.format(
            Locale.ROOT,
            "  checks         %,d values, in every answer, observation and log line (%,d lines)",
            v.checks(),
            v.logLines()));
    line(
        out,
        String.format(
            Locale.ROOT,
            "  wrong/missing  %,d%s",
            v.wrong(),
            v.checks() == 0 ? "" : String.format(Locale.ROOT, " (%.1f %%)", 100.0 * v.wrong() / v.checks())));
    List<String> faults = new ArrayList<>();
    v.faults()
        .forEach(
            (fault, counts) -> {
              if (fault != Fault.NONE) {
                faults.add(fault.header() + " " + counts[1] + "/" + counts[0]);
              }
            });
    line(out, "  faults         accounted for / injected: " + String.join(", ", faults));
    Map<String, int[]> pools = new TreeMap<>();
    for (String probe : run.probes()) {
      String[] f = probe.split("\t");
      int[] counts = pools.computeIfAbsent(f[0] + "/" + f[1] + " (" + f[3] + ")", k -> new int[2]);
      counts[0]++;
      if (!probe.endsWith("\tclean")) {
        counts[1]++;
      }
    }
    List<String> poolCounts = new ArrayList<>();
    pools.forEach((pool, counts) -> poolCounts.add(pool + " " + counts[1] + "/" + counts[0]));
    line(
        out,
        String.format(
            Locale.ROOT,
            "  afterwards     %,d of %,d pool threads in a request's context: %s",
            run.leftovers(),
            run.probes().size(),
            String.join(", ", poolCounts)));
    run.probes().stream()
        .filter(p -> !p.endsWith("\tclean"))
        .limit(2)
        .forEach(p -> line(out, "    e.g. " + p.replace('\t', ' ')));
    for (String wrong : v.wrongSamples().subList(0, Math.min(v.wrongSamples().size(), 4))) {
      line(out, "    e.g. " + wrong);
    }
  }

  private static void line(StringBuilder out, String line) {
    out.append(line).append(System.lineSeparator());
  }

  static String html(ShopDemo.Result result, ShopDemo.Options options) {
    StringBuilder page = new StringBuilder();
    page.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<title>contextvars4j: the shop demo</title><style>")
        .append("body{font-family:system-ui,sans-serif;margin:2em;max-width:980px}")
        .append("pre{background:#f4f4f4;padding:1em;overflow-x:auto;font-size:12px}")
        .append("table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right}")
        .append("</style></head><body>\n<h1>The shop: orders and inventory under load</h1>\n");
    page.append("<p>").append(escape(result.ok() ? "OK: 0 wrong or missing values with propagation on." : "FAILED: see the report."))
        .append("</p>\n<h2>Latency of the requests timed against each other</h2>\n");
    page.append(histogram(result.on(), result.off()));
    page.append("<h2>Checks per mechanism</h2>\n");
    page.append(mechanisms(result.on(), result.off()));
    page.append("<h2>The report</h2>\n<pre>").append(escape(text(result, options))).append("</pre>\n");
    page.append("</body></html>\n");
    return page.toString();
  }

  /** Latencies in log-spaced bins, 10 per decade, as two overlaid series of bars. */
  private static String histogram(ShopDemo.ModeRun on, ShopDemo.ModeRun off) {
    double min = Math.min(first(on), first(off)) / 1e6;
    double max = Math.max(last(on), last(off)) / 1e6;
    double low = Math.pow(10, Math.floor(Math.log10(Math.max(min, 0.01))));
    int bins = Math.max(1, (int) Math.ceil(10 * Math.log10(max / low)) + 1);
    int[] onCounts = counts(on.latencies(), low, bins);
    int[] offCounts = counts(off.latencies(), low, bins);
    double onShareMax = 0;
    for (int i = 0; i < bins; i++) {
      onShareMax = Math.max(onShareMax, share(onCounts, i));
      onShareMax = Math.max(onShareMax, share(offCounts, i));
    }
    int width = 900;
    int height = 320;
    int left = 60;
    int bottom = 40;
    double barWidth = (double) (width - left - 20) / bins;
    StringBuilder svg = new StringBuilder();
    svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"latency histogram\">%n", width, height));
    svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>%n", left, height - bottom, width - 20, height - bottom));
    for (int i = 0; i < bins; i++) {
      double x = left + i * barWidth;
      bar(svg, x, barWidth * 0.48, share(onCounts, i), onShareMax, height, bottom, "#1f77b4", onCounts[i]);
      bar(svg, x + barWidth * 0.5, barWidth * 0.48, share(offCounts, i), onShareMax, height, bottom, "#bbbbbb", offCounts[i]);
      if (i % 10 == 0) {
        svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\">%s ms</text>%n", x, height - bottom + 15, format(low * Math.pow(10, i / 10.0))));
      }
    }
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#1f77b4\">■ propagation on (%,d requests)</text>%n", left + 10, 20, on.latencies().length));
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#888\">■ propagation off (%,d requests)</text>%n", left + 10, 38, off.latencies().length));
    svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">share of requests per bin (10 bins per decade of latency)</text>%n", left, height - 8));
    svg.append("</svg>\n");
    return svg.toString();
  }

  private static void bar(StringBuilder svg, double x, double w, double share, double max, int height, int bottom, String color, int count) {
    double h = max == 0 ? 0 : (height - bottom - 50) * share / max;
    svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%,d requests</title></rect>%n", x, height - bottom - h, w, h, color, count));
  }

  private static double share(int[] counts, int i) {
    long total = 0;
    for (int c : counts) {
      total += c;
    }
    return total == 0 ? 0 : (double) counts[i] / total;
  }

  private static int[] counts(long[] latencies, double low, int bins) {
    int[] counts = new int[bins];
    for (long nanos : latencies) {
      double millis = nanos / 1e6;
      int bin = (int) Math.floor(10 * Math.log10(Math.max(millis, low) / low));
      counts[Math.max(0, Math.min(bins - 1, bin))]++;
    }
    return counts;
  }

  private static long first(ShopDemo.ModeRun run) {
    return run.latencies().length == 0 ? 1_000_000 : run.latencies()[0];
  }

  private static long last(ShopDemo.ModeRun run) {
    return run.latencies().length == 0 ? 1_000_000 : run.latencies()[run.latencies().length - 1];
  }

  private static String format(double millis) {
    return millis < 1 ? String.format(Locale.ROOT, "%.2f", millis) : String.format(Locale.ROOT, "%.0f", millis);
  }

  /** One row per mechanism: checks with propagation on (wrong in red), and off. */
  private static String mechanisms(ShopDemo.ModeRun on, ShopDemo.ModeRun off) {
    Map<String, long[]> onBy = on.verifier().byMechanism();
    Map<String, long[]> offBy = off.verifier().byMechanism();
    long max = 1;
    for (long[] c : onBy.values()) {
      max = Math.max(max, c[0]);
    }
    int row = 22;
    int width = 900;
    int label = 140;
    int height = row * onBy.size() + 30;
    StringBuilder svg = new StringBuilder();
    svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"checks per mechanism\">%n", width, height));
    int y = 10;
    for (Map.Entry<String, long[]> m : onBy.entrySet()) {
      long[] c = m.getValue();
      long[] o = offBy.getOrDefault(m.getKey(), new long[2]);
      double w = (width - label - 380) * (double) c[0] / max;
      double wrongW = c[0] == 0 ? 0 : w * c[1] / c[0];
      svg.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"%d\" font-size=\"12\">%s</text>%n", y + 13, escape(m.getKey())));
      svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"#2ca02c\"/>%n", label, y, w - wrongW));
      svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"#d62728\"/>%n", label + w - wrongW, y, wrongW));
      svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\">%,d checked, %,d wrong · off: %,d wrong of %,d</text>%n", label + w + 6, y + 13, c[0], c[1], o[1], o[0]));
      y += row;
    }
    svg.append("</svg>\n");
    return svg.toString();
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
