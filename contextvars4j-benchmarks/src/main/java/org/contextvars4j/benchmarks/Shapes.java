package org.contextvars4j.benchmarks;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The server-shape section of the {@link Report}: one table per shape, a row per system, a column
 * per variant (threads, history, n, MDC entries), each cell the median with its bytes/op and drift
 * flag; then the MDC shapes of {@link MdcBenchmark} as ratios of contextvars4j to each peer.
 */
final class Shapes {

  /** A column: its heading, and the benchmark method and n whose results it shows. */
  private record Column(String heading, String method, int n) {}

  /** A table: its title, what it measures, and its columns. */
  private record Table(String title, String what, List<Column> columns) {}

  private Shapes() {}

  /** The MDC entries of {@link MdcBenchmark}, its tables' columns; before TABLES, which uses it. */
  private static final int[] MDC_ENTRIES = {1, 5, 20};

  private static final List<Table> TABLES =
      List.of(
          new Table(
              "S1. get of one shared variable, each thread in its own context",
              "ConcurrentGetBenchmark: a `static final`-like variable read again and again on 1,"
                  + " 2 and 4 threads at once (4 on 2 CPUs is oversubscribed: each thread has half"
                  + " a CPU)",
              List.of(
                  new Column("1 thread", "ConcurrentGetBenchmark.get1", 0),
                  new Column("2 threads", "ConcurrentGetBenchmark.get2", 0),
                  new Column("4 threads (oversubscribed)", "ConcurrentGetBenchmark.get4", 0))),
          new Table(
              "S2. a request: set, 4 × get, reset",
              "RequestBenchmark, on 1, 2 and 4 threads at once, each in its own context",
              List.of(
                  new Column("1 thread", "RequestBenchmark.request1", 0),
                  new Column("2 threads", "RequestBenchmark.request2", 0),
                  new Column("4 threads (oversubscribed)", "RequestBenchmark.request4", 0))),
          new Table(
              "S3. set + reset on a fresh and on an aged mapping",
              "AgedSetResetBenchmark: n variables bound; aged: after "
                  + AgedSetResetBenchmark.AGE
                  + " further sets never undone",
              List.of(
                  new Column("fresh, n = 1", "AgedSetResetBenchmark.setAndRestore[fresh]", 1),
                  new Column("aged, n = 1", "AgedSetResetBenchmark.setAndRestore[aged]", 1),
                  new Column(
                      "fresh, n = 1,000", "AgedSetResetBenchmark.setAndRestore[fresh]", 1000),
                  new Column(
                      "aged, n = 1,000", "AgedSetResetBenchmark.setAndRestore[aged]", 1000))),
          new Table(
              "S4. the receiving side of a hop",
              "ReplayBenchmark: a no-op run in values captured elsewhere (n bound there, none"
                  + " here): a held capture replayed, and a task wrapped elsewhere run",
              List.of(
                  new Column("held, n = 1", "ReplayBenchmark.heldContext", 1),
                  new Column("wrapped task, n = 1", "ReplayBenchmark.wrappedTask", 1))),
          new Table(
              "S5. a handler: 3 variables set, read 10 times each, one hop through a wrapped"
                  + " pool",
              "HandlerBenchmark, one thread (the spinning hop takes both CPUs); the ThreadLocal"
                  + " row hands its task to the unwrapped pool: the baseline",
              List.of(
                  new Column("handler", "HandlerBenchmark.handler", 0),
                  new Column("without the hop", "HandlerBenchmark.handlerWithoutHop", 0))),
          new Table(
              "S6. floors, in the same run",
              "CasFloorBenchmark: the compare-and-set and release store that entering and leaving"
                  + " a held context cost, alone; GetFloorBenchmark: ThreadLocal.get(), then one"
                  + " field, then a slot check, the least a read through a per-thread state can"
                  + " cost, beside ContextVar.get(); ProfileFloorBenchmark: the set + reset of the"
                  + " least stack of sets, compiled with a fresh profile and with one whose rare"
                  + " path the warm-up took (as AgedSetResetBenchmark's warmed and aged)",
              List.of(
                  new Column("CAS + release", "CasFloorBenchmark.casAndRelease", 0),
                  new Column("ThreadLocal.get()", "GetFloorBenchmark.threadLocal", 0),
                  new Column("+ one field", "GetFloorBenchmark.threadLocalThenField", 0),
                  new Column("+ a slot check", "GetFloorBenchmark.threadLocalThenSlot", 0),
                  new Column("ContextVar.get()", "GetFloorBenchmark.contextVar", 0),
                  new Column("stack, fresh", "ProfileFloorBenchmark.setAndReset[fresh]", 0),
                  new Column("stack, warmed", "ProfileFloorBenchmark.setAndReset[warmed]", 0))),
          mdc(
              "S7. MDC put + remove",
              "putRemove",
              "MdcBenchmark: put(\"k\", v) then remove(\"k\"), each adapter or map called"
                  + " directly"),
          mdc(
              "S8. MDC get",
              "get",
              "MdcBenchmark: get(\"request_id\"), each adapter or map called directly"),
          mdc(
              "S9. MDC taken by a log event, then read",
              "eventRead",
              "MdcBenchmark: what the backend takes from the MDC for one event (Logback:"
                  + " getPropertyMap() of its own adapter, getCopyOfContextMap() of another; Log4j:"
                  + " what its context-data injector takes for the map), then request_id read from"
                  + " it"),
          mdc(
              "S10. MDC hop: capture, restore, read, undo, on one thread",
              "hop",
              "MdcBenchmark: contextvars4j copyCurrent() + call(read); Logback and Log4j by hand"
                  + " (copy, save, set, read, restore); Micrometer captureAll() +"
                  + " setThreadLocals() over Logback's MDC. On one thread the peers' save and"
                  + " restore copy the map too, which a pool thread with an empty MDC does not"));

  private static Table mdc(String title, String shape, String what) {
    List<Column> columns = new ArrayList<>();
    for (int entries : MDC_ENTRIES) {
      columns.add(
          new Column(
              entries == 1 ? "1 entry" : entries + " entries",
              "MdcBenchmark." + shape + "[" + entries + "]",
              0));
    }
    return new Table(title, what, columns);
  }

  /** A ratio row of the MDC: contextvars4j's system over a peer's, in one shape. */
  private record Ratio(String shape, String method, String ours, String peer) {}

  private static final List<Ratio> MDC_RATIOS =
      List.of(
          new Ratio("put + remove", "putRemove", "CONTEXTVARS4J_SLF4J", "LOGBACK"),
          new Ratio("put + remove", "putRemove", "CONTEXTVARS4J_LOG4J2", "LOG4J2"),
          new Ratio("get", "get", "CONTEXTVARS4J_SLF4J", "LOGBACK"),
          new Ratio("get", "get", "CONTEXTVARS4J_LOG4J2", "LOG4J2"),
          new Ratio("event read", "eventRead", "CONTEXTVARS4J_SLF4J", "LOGBACK"),
          new Ratio("event read", "eventRead", "CONTEXTVARS4J_LOG4J2", "LOG4J2"),
          new Ratio("hop", "hop", "CONTEXTVARS4J_SLF4J", "LOGBACK"),
          new Ratio("hop", "hop", "CONTEXTVARS4J_SLF4J", "MICROMETER_LOGBACK"),
          new Ratio("hop", "hop", "CONTEXTVARS4J_LOG4J2", "LOG4J2"));

  static void render(StringBuilder out, Map<String, Map<String, Report.Row>> index) {
    for (Table table : TABLES) {
      Set<String> systems = new LinkedHashSet<>();
      for (Column column : table.columns()) {
        systems.addAll(index.getOrDefault(column.method(), Map.of()).keySet());
      }
      if (systems.isEmpty()) {
        continue;
      }
      List<String> ordered = new ArrayList<>();
      for (SystemType type : SystemType.values()) {
        if (systems.contains(type.name())) {
          ordered.add(type.name());
        }
      }
      for (MdcBenchmark.MdcSystem type : MdcBenchmark.MdcSystem.values()) {
        if (systems.contains(type.name())) {
          ordered.add(type.name());
        }
      }
      systems.stream().filter(system -> !ordered.contains(system)).forEach(ordered::add);
      out.append("## ").append(table.title()).append("\n\n").append(table.what()).append(".\n\n");
      out.append("| system |");
      table.columns().forEach(column -> out.append(' ').append(column.heading()).append(" |"));
      out.append("\n|---|");
      table.columns().forEach(column -> out.append("---:|"));
      out.append('\n');
      for (String system : ordered) {
        String label = Report.label(system);
        out.append("| ").append(label.isEmpty() ? "(no system)" : label).append(" |");
        for (Column column : table.columns()) {
          Report.Cell cell = Report.find(index, column.method(), system, column.n());
          out.append(' ').append(Report.format(cell)).append(" |");
        }
        out.append('\n');
      }
      out.append('\n');
    }
    mdcRatios(out, index);
    out.append(String.format(Locale.ROOT, "%n"));
  }

  /** contextvars4j's MDC time over each peer's, per shape and number of entries. */
  private static void mdcRatios(StringBuilder out, Map<String, Map<String, Report.Row>> index) {
    StringBuilder rows = new StringBuilder();
    for (Ratio ratio : MDC_RATIOS) {
      StringBuilder row = new StringBuilder();
      boolean any = false;
      row.append("| ")
          .append(ratio.shape())
          .append(" | ")
          .append(Report.label(ratio.ours()))
          .append(" / ")
          .append(Report.label(ratio.peer()))
          .append(" |");
      for (int entries : MDC_ENTRIES) {
        String method = "MdcBenchmark." + ratio.method() + "[" + entries + "]";
        Report.Cell ours = Report.find(index, method, ratio.ours(), 0);
        Report.Cell theirs = Report.find(index, method, ratio.peer(), 0);
        if (ours == null || theirs == null) {
          row.append(" – |");
          continue;
        }
        any = true;
        double quotient = ours.score() / theirs.score();
        row.append(
            String.format(
                Locale.ROOT,
                quotient < 0.1 ? " %.3f ×%s |" : " %.2f ×%s |",
                quotient,
                ours.drifts() || theirs.drifts() ? " ⚠" : ""));
      }
      if (any) {
        rows.append(row).append('\n');
      }
    }
    if (rows.isEmpty()) {
      return;
    }
    out.append("## S11. MDC: contextvars4j as a ratio to the backend's own\n\n");
    out.append(
        "Each MDC shape above: contextvars4j's median over the peer's (below 1: contextvars4j is"
            + " faster); ⚠: one of the two figures drifts.\n\n");
    out.append("| shape | contextvars4j / peer |");
    for (int entries : MDC_ENTRIES) {
      out.append(entries == 1 ? " 1 entry |" : " " + entries + " entries |");
    }
    out.append("\n|---|---|");
    for (int i = 0; i < MDC_ENTRIES.length; i++) {
      out.append("---:|");
    }
    out.append('\n').append(rows).append('\n');
  }
}
