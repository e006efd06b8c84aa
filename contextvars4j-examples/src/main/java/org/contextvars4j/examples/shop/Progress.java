package org.contextvars4j.examples.shop;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A progress bar on the terminal: redrawn in place five times a second when standard output is
 * a terminal, else a line at every quarter. Thread-safe: any thread may count an answer.
 */
final class Progress implements AutoCloseable {
  private static final int WIDTH = 30;
  private final PrintStream out;
  private final boolean terminal;
  private final int total;
  private final AtomicInteger done = new AtomicInteger();
  private final long start = System.nanoTime();
  private final ScheduledExecutorService redraw;
  private volatile String phase = "";
  private int lastQuarter;

  Progress(PrintStream out, boolean terminal, int total) {
    this.out = out;
    this.terminal = terminal;
    this.total = total;
    this.redraw =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("progress").unstarted(r));
    redraw.scheduleAtFixedRate(this::draw, 200, 200, TimeUnit.MILLISECONDS);
  }

  /** Names what is being sent now. */
  void phase(String phase) {
    this.phase = phase;
  }

  void answered() {
    done.incrementAndGet();
  }

  private synchronized void draw() {
    int now = done.get();
    if (terminal) {
      out.print("\r" + line(now));
      out.flush();
    } else {
      int quarter = (int) (4L * now / total);
      if (quarter > lastQuarter) {
        lastQuarter = quarter;
        out.println(line(now));
      }
    }
  }

  private String line(int now) {
    int filled = (int) ((long) WIDTH * now / total);
    double seconds = (System.nanoTime() - start) / 1e9;
    return String.format(
        Locale.ROOT,
        "  [%s%s] %,7d/%,d requests  %5.1f s  %-28s",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        now,
        total,
        seconds,
        phase);
  }

  @Override
  public synchronized void close() {
    redraw.shutdownNow();
    if (terminal) {
      out.println("\r" + line(done.get()));
    } else if (lastQuarter < 4) {
      out.println(line(done.get()));
    }
  }
}
