package org.contextvars4j.benchmarks;

import java.util.List;
import java.util.Timer;
import java.util.TimerTask;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The small application whose start-up {@link AgentStartup} times: it uses the JDK's concurrency
 * and exits. It depends on the JDK alone, so that it runs from a class path of its own (beside an
 * agent that brings the core, a second copy of it would be refused).
 *
 * <ul>
 *   <li>{@code pool}: one task on a fixed pool;
 *   <li>{@code all}: also a {@code CompletableFuture} chain, a timer task, a virtual thread and a
 *       parallel stream, so that every class the agent instruments is loaded and transformed.
 * </ul>
 */
public final class StartupApp {
  private StartupApp() {}

  /**
   * Runs the shape named by the first argument.
   *
   * @param args {@code pool} or {@code all}
   * @throws Exception if a task fails or does not finish within ten seconds
   */
  public static void main(String[] args) throws Exception {
    String shape = args.length == 0 ? "pool" : args[0];
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      pool.submit(() -> 1).get(10, TimeUnit.SECONDS);
      if (shape.equals("all")) {
        CompletableFuture.supplyAsync(() -> 1, pool)
            .thenApply(x -> x + 1)
            .get(10, TimeUnit.SECONDS);
        CountDownLatch timerRan = new CountDownLatch(1);
        Timer timer = new Timer(true);
        timer.schedule(
            new TimerTask() {
              @Override
              public void run() {
                timerRan.countDown();
              }
            },
            0);
        if (!timerRan.await(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the timer task did not run");
        }
        timer.cancel();
        Thread.ofVirtual().start(() -> {}).join(10_000);
        int sum = List.of(1, 2, 3, 4).parallelStream().mapToInt(x -> x).sum();
        if (sum != 10) {
          throw new IllegalStateException("sum " + sum);
        }
      } else if (!shape.equals("pool")) {
        throw new IllegalArgumentException("shape: pool or all, not " + shape);
      }
    } finally {
      pool.shutdown();
    }
  }
}
