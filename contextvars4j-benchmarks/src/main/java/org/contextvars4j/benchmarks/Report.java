package org.contextvars4j.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Writes the Markdown report of a JMH run of this module: reads JMH's JSON result file ({@code
 * -rf json}) and writes, per operation, a table (a row per system, a column per number of bound
 * variables: ns/op ± error and bytes/op from {@code -prof gc}'s {@code gc.alloc.rate.norm}), the
 * executor hop as ratios to the unwrapped pool, and the ratios against the project's targets, each
 * computed from the numbers of this run and marked MET or MISSED. A JOL footprint table (the
 * output of {@link JolFootprint}) is appended when given.
 *
 * <pre>{@code
 * java -cp benchmarks.jar org.contextvars4j.benchmarks.Report RESULT.json REPORT.md \
 *   [JOL.md] [TITLE]
 * }</pre>
 */
public final class Report {

  private static final String PACKAGE = "org.contextvars4j.benchmarks.";
  private static final String ALLOC = "gc.alloc.rate.norm";
  private static final String BASELINE = "THREAD_LOCAL";

  /**
   * One measured value: the median of every measured iteration of every fork, JMH's 99.9 % error,
   * the unit, bytes/op (NaN when not profiled), and the largest drift of one fork's iterations
   * from its first to its last, as a fraction of the first.
   */
  record Cell(double score, double error, String unit, double bytes, double drift) {
    /** {@return whether the iterations drift too much for the figure to be a steady state} */
    boolean drifts() {
      return drift > DRIFT_LIMIT;
    }
  }

  /** A figure whose iterations drift by more than this from first to last is flagged. */
  static final double DRIFT_LIMIT = 0.20;

  /** One table row: a system (or a system in a variant form) and its cells by n. */
  record Row(String label, Map<Integer, Cell> byN) {}

  /** An operation: its title, what it is, and the benchmark methods whose results it shows. */
  record Operation(String title, String what, String[] methods, String notMeasured) {}

  private static final Operation[] OPERATIONS = {
    new Operation(
        "1a. get of a bound variable (hot)",
        "The last of n bound variables, read again and again on the same thread",
        new String[] {"GetBenchmark.get", "InBindingsBenchmark.get"},
        "Micrometer: no variable of its own (its variables are ThreadLocals: see the ThreadLocal"
            + " row)."),
    new Operation(
        "1b. get of an unbound variable, with a default",
        "A variable never bound on the thread, read with a default",
        new String[] {"GetBenchmark.getUnbound", "InBindingsBenchmark.getUnbound"},
        "Micrometer: no variable of its own."),
    new Operation(
        "2. set + restore",
        "Set the variable to another value and restore it, the system's own way",
        new String[] {"SetResetBenchmark.setAndRestore", "InBindingsBenchmark.setAndRestore"},
        "Micrometer: no set of its own (a set is a ThreadLocal set)."),
    new Operation(
        "3. capture",
        "Capture the current values for another thread",
        new String[] {"CaptureBenchmark.capture"},
        "ScopedValue: no capture (the code that bound the values must keep its carrier)."),
    new Operation(
        "4. capture + wrap + run (same thread)",
        "Capture, wrap a no-op task, run it here",
        new String[] {"CaptureWrapRunBenchmark.captureWrapRun"},
        ""),
    new Operation(
        "5. executor hop (single-thread pool)",
        "Hand a task that reads the variable to the system's wrapper of a single-thread pool and"
            + " wait for its result (both sides spin: see ExecutorHopBenchmark)",
        new String[] {"ExecutorHopBenchmark.hop"},
        "ScopedValue: no executor wrapper in JDK 25 (StructuredTaskScope is a preview API);"
            + " InheritableThreadLocal: the same as the unwrapped pool (it copies values only when"
            + " a thread is created)."),
  };

  private Report() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: Report RESULT.json REPORT.md [JOL.md] [TITLE]");
      System.exit(2);
    }
    JsonNode results = new ObjectMapper().readTree(Path.of(args[0]).toFile());
    String jol = args.length > 2 && !args[2].isEmpty() ? Files.readString(Path.of(args[2])) : null;
    String title = args.length > 3 ? args[3] : "contextvars4j benchmarks";
    String markdown = render(results, jol, title, Path.of(args[0]).getFileName().toString());
    Files.writeString(Path.of(args[1]), markdown, StandardCharsets.UTF_8);
  }

  /* ---- reading ---- */

  /** Results by "Class.method", then by row label, then by n. */
  static Map<String, Map<String, Row>> index(JsonNode results) {
    Map<String, Map<String, Row>> byMethod = new LinkedHashMap<>();
    for (JsonNode result : results) {
      String method = result.path("benchmark").asText().replace(PACKAGE, "");
      JsonNode params = result.path("params");
      String system = params.path("system").asText(NO_SYSTEM);
      int n = params.path("n").asInt();
      if (params.has("history")) {
        method = method + "[" + params.path("history").asText() + "]";
      }
      if (params.has("entries")) {
        // MdcBenchmark: the number of MDC entries, a column of its tables (Shapes), not an n.
        method = method + "[" + params.path("entries").asText() + "]";
      }
      JsonNode primary = result.path("primaryMetric");
      JsonNode alloc = result.path("secondaryMetrics").path(ALLOC);
      Cell cell =
          new Cell(
              median(primary.path("rawData")),
              number(primary.path("scoreError")),
              primary.path("scoreUnit").asText(),
              alloc.isMissingNode() ? Double.NaN : number(alloc.path("score")),
              drift(primary.path("rawData")));
      byMethod
          .computeIfAbsent(method, k -> new LinkedHashMap<>())
          .computeIfAbsent(system, k -> new Row(k, new LinkedHashMap<>()))
          .byN()
          .put(n, cell);
    }
    return byMethod;
  }

  /** The row of a benchmark without a system parameter (the floors). */
  static final String NO_SYSTEM = "";

  /** {@return the median of every iteration of every fork in JMH's rawData} */
  static double median(JsonNode rawData) {
    List<Double> all = new ArrayList<>();
    rawData.forEach(fork -> fork.forEach(iteration -> all.add(iteration.asDouble())));
    if (all.isEmpty()) {
      return Double.NaN;
    }
    all.sort(null);
    int middle = all.size() / 2;
    return all.size() % 2 == 1 ? all.get(middle) : (all.get(middle - 1) + all.get(middle)) / 2;
  }

  /** {@return the largest |last - first| / first over the forks in JMH's rawData} */
  static double drift(JsonNode rawData) {
    double worst = 0;
    for (JsonNode fork : rawData) {
      if (fork.size() >= 2) {
        double first = fork.get(0).asDouble();
        double last = fork.get(fork.size() - 1).asDouble();
        worst = Math.max(worst, Math.abs(last - first) / first);
      }
    }
    return worst;
  }

  private static double number(JsonNode node) {
    // JMH writes "NaN" (a string) for an error it could not compute, e.g. from one iteration.
    return node.isNumber() ? node.asDouble() : Double.NaN;
  }

  private static Cell cell(
      Map<String, Map<String, Row>> index, String method, String system, int n) {
    Row row = index.getOrDefault(method, Map.of()).get(system);
    return row == null ? null : row.byN().get(n);
  }

  /* ---- writing ---- */

  static String render(JsonNode results, String jol, String title, String source) {
    Map<String, Map<String, Row>> index = index(results);
    TreeSet<Integer> allNs = new TreeSet<>();
    index.values().forEach(rows -> rows.values().forEach(row -> allNs.addAll(row.byN().keySet())));
    // 0: the benchmarks without an n (the server shapes); the per-n tables leave it out.
    TreeSet<Integer> ns = new TreeSet<>(allNs);
    ns.remove(0);
    StringBuilder out = new StringBuilder();
    out.append("# ").append(title).append("\n\n");
    if (!results.isEmpty()) {
      JsonNode first = results.get(0);
      out.append(
          String.format(
              Locale.ROOT,
              "JMH %s, %s %s (%s); %d fork(s), warmup %d × %s, measurement %d × %s, mode %s,"
                  + " threads as each benchmark names them; source `%s`. Cells: the median ns/op"
                  + " of every measured iteration of every fork ± JMH's 99.9%% error of the mean, and bytes/op (`-prof gc`'s"
                  + " gc.alloc.rate.norm, rounded to a whole byte); ⚠ marks a figure whose"
                  + " iterations drift by more than 20%% from first to last in a fork, which is"
                  + " not a steady state. Ratios are ratios of medians.%n%n",
              first.path("jmhVersion").asText(),
              first.path("vmName").asText(),
              first.path("vmVersion").asText(),
              first.path("jdkVersion").asText(),
              first.path("forks").asInt(),
              first.path("warmupIterations").asInt(),
              first.path("warmupTime").asText(),
              first.path("measurementIterations").asInt(),
              first.path("measurementTime").asText(),
              first.path("mode").asText(),
              source));
      List<String> jvmArgs = new ArrayList<>();
      first.path("jvmArgs").forEach(arg -> jvmArgs.add(arg.asText()));
      boolean parallel = jvmArgs.stream().anyMatch(arg -> arg.contains("UseParallelGC"));
      out.append(
          String.format(
              Locale.ROOT,
              "Collector: %s. Fork JVM arguments: `%s`.%n%n",
              parallel ? "ParallelGC" : "G1 (the default)",
              String.join(" ", jvmArgs)));
    }
    out.append("## Targets, computed from this run\n\n");
    targets(out, index, allNs);
    Shapes.render(out, index);
    for (Operation operation : OPERATIONS) {
      out.append("## ").append(operation.title()).append("\n\n");
      out.append(operation.what()).append(".\n\n");
      table(out, index, operation, ns);
      if (operation.methods()[0].equals("ExecutorHopBenchmark.hop")) {
        hopRatios(out, index, ns);
      }
      if (!operation.notMeasured().isEmpty()) {
        out.append("Not measured: ").append(operation.notMeasured()).append("\n\n");
      }
    }
    out.append(
        "† Measured in `InBindingsBenchmark`: inside the n bindings, "
            + InBindingsBenchmark.BATCH
            + " operations per invocation (ScopedValue can be read and bound only inside"
            + " `ScopedValue.where(...).run(...)`); the ThreadLocal control runs the same loop,"
            + " to compare with ScopedValue there and with its own per-call row above.\n\n");
    if (jol != null) {
      out.append("## 7. Memory: 10,000 contexts over one shared base (JOL)\n\n");
      out.append(jol.strip()).append("\n");
    }
    return out.toString();
  }

  private static String label(String method, String system) {
    String name;
    try {
      name = SystemType.valueOf(system).label();
    } catch (IllegalArgumentException e) {
      name = system;
    }
    if (method.startsWith("InBindingsBenchmark.")) {
      return system.equals("SCOPED_VALUE") ? name + " †" : name + " (batch control) †";
    }
    return name;
  }

  private static void table(
      StringBuilder out,
      Map<String, Map<String, Row>> index,
      Operation operation,
      TreeSet<Integer> ns) {
    out.append("| system |");
    ns.forEach(n -> out.append(String.format(Locale.ROOT, " n = %,d |", n)));
    out.append("\n|---|");
    ns.forEach(n -> out.append("---:|"));
    out.append('\n');
    boolean any = false;
    for (String method : operation.methods()) {
      for (Row row : index.getOrDefault(method, Map.of()).values()) {
        any = true;
        out.append("| ").append(label(method, row.label())).append(" |");
        for (int n : ns) {
          out.append(' ').append(format(row.byN().get(n))).append(" |");
        }
        out.append('\n');
      }
    }
    if (!any) {
      out.append("| (not in this run) |");
      ns.forEach(n -> out.append(" – |"));
      out.append('\n');
    }
    out.append('\n');
  }

  static String format(Cell cell) {
    if (cell == null) {
      return "–";
    }
    String time =
        Double.isNaN(cell.error())
            ? String.format(Locale.ROOT, "%s", number(cell.score()))
            : String.format(Locale.ROOT, "%s ± %s", number(cell.score()), number(cell.error()));
    String bytes =
        Double.isNaN(cell.bytes())
            ? ""
            : String.format(Locale.ROOT, " · %s B", bytes(cell.bytes()));
    return time + bytes + (cell.drifts() ? String.format(Locale.ROOT, " ⚠ drift %.0f %%", 100 * cell.drift()) : "");
  }

  /** Three significant digits, thousands separated. */
  private static String number(double value) {
    double magnitude = Math.abs(value);
    if (magnitude >= 100) {
      return String.format(Locale.ROOT, "%,.0f", value);
    }
    if (magnitude >= 10) {
      return String.format(Locale.ROOT, "%.1f", value);
    }
    return String.format(Locale.ROOT, "%.2f", value);
  }

  /** Bytes/op rounded to a whole byte: JMH's normalised rate shows noise such as 0.001 for 0. */
  private static String bytes(double value) {
    return String.format(Locale.ROOT, "%,d", Math.round(value));
  }

  private static void hopRatios(
      StringBuilder out, Map<String, Map<String, Row>> index, TreeSet<Integer> ns) {
    String method = "ExecutorHopBenchmark.hop";
    Map<String, Row> rows = index.getOrDefault(method, Map.of());
    if (!rows.containsKey(BASELINE)) {
      return;
    }
    out.append("As a ratio to the unwrapped pool (ThreadLocal row; its task sees no value):\n\n");
    out.append("| system |");
    ns.forEach(n -> out.append(String.format(Locale.ROOT, " n = %,d |", n)));
    out.append("\n|---|");
    ns.forEach(n -> out.append("---:|"));
    out.append('\n');
    for (Row row : rows.values()) {
      if (row.label().equals(BASELINE)) {
        continue;
      }
      out.append("| ").append(label(method, row.label())).append(" |");
      for (int n : ns) {
        Cell cell = row.byN().get(n);
        Cell base = cell(index, method, BASELINE, n);
        out.append(
            cell == null || base == null
                ? " – |"
                : String.format(Locale.ROOT, " %.2f × |", cell.score() / base.score()));
      }
      out.append('\n');
    }
    out.append('\n');
  }

  /* ---- targets ---- */

  /** A target: contextvars4j's number in one method, over a peer's in another, at most a bound. */
  private record Target(
      String what, String method, String system, String peerMethod, String peer, double bound) {}

  private static void targets(
      StringBuilder out, Map<String, Map<String, Row>> index, TreeSet<Integer> ns) {
    List<Target> ratios = new ArrayList<>();
    for (String threads : new String[] {"1", "2"}) {
      String get = "ConcurrentGetBenchmark.get" + threads;
      ratios.add(
          new Target(
              "get, " + threads + " thread(s), shared variable ≤ 1.3 × ThreadLocal.get()",
              get, "CONTEXTVARS4J", get, "THREAD_LOCAL", 1.3));
    }
    for (String threads : new String[] {"1", "2"}) {
      String request = "RequestBenchmark.request" + threads;
      ratios.add(
          new Target(
              "request (set, 4 × get, reset), " + threads + " thread(s) ≤ OpenTelemetry's",
              request, "CONTEXTVARS4J", request, "OPENTELEMETRY", 1.0));
    }
    ratios.add(
        new Target(
            "aged set + reset ≤ 1.15 × fresh",
            "AgedSetResetBenchmark.setAndRestore[aged]", "CONTEXTVARS4J",
            "AgedSetResetBenchmark.setAndRestore[fresh]", "CONTEXTVARS4J", 1.15));
    ratios.add(
        new Target(
            "aged set + reset ≤ 1.15 × warmed (fresh mapping, the aged run's JIT profile)",
            "AgedSetResetBenchmark.setAndRestore[aged]", "CONTEXTVARS4J",
            "AgedSetResetBenchmark.setAndRestore[warmed]", "CONTEXTVARS4J", 1.15));
    ratios.add(
        new Target(
            "held-context replay (ctx.run) ≤ 1.5 × OpenTelemetry's ctx.wrap(task).run()",
            "ReplayBenchmark.heldContext", "CONTEXTVARS4J",
            "ReplayBenchmark.heldContext", "OPENTELEMETRY", 1.5));
    ratios.add(
        new Target(
            "wrappers' private-context run (ContextExecutors.capture) ≤ OpenTelemetry's",
            "ReplayBenchmark.wrappedTask", "CONTEXTVARS4J",
            "ReplayBenchmark.wrappedTask", "OPENTELEMETRY", 1.0));
    ratios.add(
        new Target(
            "get hot ≤ 1.3 × ThreadLocal.get()",
            "GetBenchmark.get", "CONTEXTVARS4J", "GetBenchmark.get", "THREAD_LOCAL", 1.3));
    ratios.add(
        new Target(
            "set + reset ≤ TTL's set-and-restore",
            "SetResetBenchmark.setAndRestore", "CONTEXTVARS4J",
            "SetResetBenchmark.setAndRestore", "TTL", 1.0));
    ratios.add(
        new Target(
            "capture (copyCurrent) ≤ 2 × OpenTelemetry Context.current()",
            "CaptureBenchmark.capture", "CONTEXTVARS4J", "CaptureBenchmark.capture",
            "OPENTELEMETRY", 2.0));
    ratios.add(
        new Target(
            "capture + wrap + run (ContextExecutors.capture) ≤ OpenTelemetry's",
            "CaptureWrapRunBenchmark.captureWrapRun", "CONTEXTVARS4J",
            "CaptureWrapRunBenchmark.captureWrapRun", "OPENTELEMETRY", 1.0));
    ratios.add(
        new Target(
            "capture + wrap + run (copyCurrent().wrap) ≤ OpenTelemetry's",
            "CaptureWrapRunBenchmark.captureWrapRun", "CONTEXTVARS4J_COPY_WRAP",
            "CaptureWrapRunBenchmark.captureWrapRun", "OPENTELEMETRY", 1.0));
    out.append("| target | n | contextvars4j | peer | ratio | verdict |\n");
    out.append("|---|---:|---:|---:|---:|---|\n");
    int met = 0;
    int missed = 0;
    for (Target target : ratios) {
      for (int n : ns) {
        Cell ours = cell(index, target.method(), target.system(), n);
        Cell theirs = cell(index, target.peerMethod(), target.peer(), n);
        if (ours == null || theirs == null) {
          continue;
        }
        double ratio = ours.score() / theirs.score();
        boolean ok = ratio <= target.bound();
        String drifting = ours.drifts() || theirs.drifts() ? " ⚠ drifting: not a steady state" : "";
        if (ok) {
          met++;
        } else {
          missed++;
        }
        out.append(
            String.format(
                Locale.ROOT,
                "| %s | %s | %s ns | %s ns | %.2f (bound %.2f) | %s%s |%n",
                target.what(),
                n == 0 ? "–" : String.format(Locale.ROOT, "%,d", n),
                number(ours.score()),
                number(theirs.score()),
                ratio,
                target.bound(),
                ok ? "MET" : "**MISSED**",
                drifting));
      }
    }
    String[][] budgets = {
      {"GetBenchmark.get", "0", "hot get"},
      {"GetBenchmark.getUnbound", "0", "unbound get with a default"},
      {"ConcurrentGetBenchmark.get1", "0", "get, 1 thread"},
      {"ConcurrentGetBenchmark.get2", "0", "get, 2 threads"},
      {"RequestBenchmark.request1", "48", "request, 1 thread"},
      {"RequestBenchmark.request2", "48", "request, 2 threads"},
    };
    for (String[] budget : budgets) {
      String method = budget[0];
      long most = Long.parseLong(budget[1]);
      for (int n : ns) {
        Cell ours = cell(index, method, "CONTEXTVARS4J", n);
        if (ours == null || Double.isNaN(ours.bytes())) {
          continue;
        }
        boolean ok = Math.round(ours.bytes()) <= most;
        if (ok) {
          met++;
        } else {
          missed++;
        }
        out.append(
            String.format(
                Locale.ROOT,
                "| ≤ %d bytes/op: %s | %s | %s B/op | – | – | %s |%n",
                most,
                budget[2],
                n == 0 ? "–" : String.format(Locale.ROOT, "%,d", n),
                String.format(Locale.ROOT, "%.3f", ours.bytes()),
                ok ? "MET" : "**MISSED**"));
      }
    }
    out.append(
        String.format(
            Locale.ROOT,
            "%n%d met, %d missed. Flat in n (contextvars4j at n = %,d over n = %,d): %s.%n%n",
            met,
            missed,
            perN(ns).isEmpty() ? 0 : perN(ns).last(),
            perN(ns).isEmpty() ? 0 : perN(ns).first(),
            flatness(index, perN(ns))));
  }

  private static TreeSet<Integer> perN(TreeSet<Integer> ns) {
    TreeSet<Integer> perN = new TreeSet<>(ns);
    perN.remove(0);
    return perN;
  }

  static String label(String system) {
    if (system.equals(NO_SYSTEM)) {
      return "";
    }
    try {
      return SystemType.valueOf(system).label();
    } catch (IllegalArgumentException e) {
      return mdcLabel(system);
    }
  }

  /** {@return the label of an {@link MdcBenchmark} system, or {@code system} itself} */
  private static String mdcLabel(String system) {
    try {
      return MdcBenchmark.MdcSystem.valueOf(system).label();
    } catch (IllegalArgumentException e) {
      return system;
    }
  }

  static Cell find(Map<String, Map<String, Row>> index, String method, String system, int n) {
    return cell(index, method, system, n);
  }

  private static String flatness(Map<String, Map<String, Row>> index, TreeSet<Integer> ns) {
    if (ns.size() < 2) {
      return "one n only";
    }
    String[][] rows = {
      {"set + reset", "SetResetBenchmark.setAndRestore", "CONTEXTVARS4J"},
      {"capture", "CaptureBenchmark.capture", "CONTEXTVARS4J"},
      {"capture + wrap + run", "CaptureWrapRunBenchmark.captureWrapRun", "CONTEXTVARS4J"},
      {"get", "GetBenchmark.get", "CONTEXTVARS4J"},
    };
    List<String> parts = new ArrayList<>();
    for (String[] row : rows) {
      Cell low = cell(index, row[1], row[2], ns.first());
      Cell high = cell(index, row[1], row[2], ns.last());
      if (low != null && high != null) {
        parts.add(String.format(Locale.ROOT, "%s %.2f ×", row[0], high.score() / low.score()));
      }
    }
    return parts.isEmpty() ? "not measured" : String.join(", ", parts);
  }
}
