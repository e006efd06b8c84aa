package org.contextvars4j.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.openjdk.jol.info.ClassLayout;

/**
 * What a thread that used contextvars4j keeps (not JMH): {@value #THREADS} virtual threads, each
 * parked after one use of the library, and the heap they hold measured after a full collection,
 * against the same threads parked without the library. The value set is one object shared by
 * every thread, so the figures are the library's own per-thread memory, beyond the values.
 *
 * <ul>
 *   <li>read: one {@code get} (the thread's state is made);
 *   <li>set: one {@code set} in the thread's own context, never undone;
 *   <li>two sets: two variables set, never undone (the older set moves to the state's slots);
 *   <li>own context: a new {@code Context} entered ({@code enter()}, so every thread parks at the
 *       same stack depth) and one set in it.
 * </ul>
 *
 * Also prints the instance sizes of the per-thread objects (JOL). Prints Markdown to standard
 * output. Run by {@code bin/bench}, or alone:
 *
 * {@snippet lang = shell :
 * java -Xmx2g -cp contextvars4j-benchmarks/target/benchmarks.jar \
 *   org.contextvars4j.benchmarks.ThreadFootprint
 * }
 */
public final class ThreadFootprint {
  static final int THREADS = 100_000;

  private static final ContextVar<Object> FIRST = ContextVar.named("first");
  private static final ContextVar<Object> SECOND = ContextVar.named("second");
  private static final Object SHARED = new Object();

  private ThreadFootprint() {}

  /** What each thread does with the library before it parks. */
  private enum Use {
    NONE("no use of the library (the baseline)") {
      @Override
      void then(Parking parking) throws InterruptedException {
        parking.park();
      }
    },
    READ("one get") {
      @Override
      void then(Parking parking) throws InterruptedException {
        FIRST.getOrDefault(null);
        parking.park();
      }
    },
    SET("one set, never undone") {
      @Override
      void then(Parking parking) throws InterruptedException {
        FIRST.set(SHARED);
        parking.park();
      }
    },
    TWO_SETS("two sets of two variables, never undone") {
      @Override
      void then(Parking parking) throws InterruptedException {
        FIRST.set(SHARED);
        SECOND.set(SHARED);
        parking.park();
      }
    },
    OWN_CONTEXT("a new Context entered, one set in it") {
      @Override
      void then(Parking parking) throws InterruptedException {
        try (Context.Scope ignored = new Context().enter()) {
          FIRST.set(SHARED);
          parking.park();
        }
      }
    };

    final String what;

    Use(String what) {
      this.what = what;
    }

    abstract void then(Parking parking) throws InterruptedException;
  }

  /** Every thread counts down {@code parked}, then waits for {@code release}. */
  private record Parking(CountDownLatch parked, CountDownLatch release) {
    void park() throws InterruptedException {
      parked.countDown();
      if (!release.await(5, TimeUnit.MINUTES)) {
        throw new IllegalStateException("not released within 5 minutes");
      }
    }
  }

  public static void main(String[] args) throws Exception {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    // A first round of each, unmeasured: class loading and the JIT allocate on the first one.
    for (Use use : Use.values()) {
      heldBy(use, 1_000, memory);
    }
    long baseline = heldBy(Use.NONE, THREADS, memory);
    System.out.printf(
        Locale.ROOT,
        "%n## 8. Memory per thread: %,d parked virtual threads%n%n"
            + "Heap held after a full collection, less the same threads parked without the"
            + " library (%,d bytes for %,d threads), divided by the thread count; the value set"
            + " is one object shared by every thread. Target: at most 128 bytes per thread.%n%n"
            + "| what each thread did | bytes per thread |%n|---|---:|%n",
        THREADS,
        baseline,
        THREADS);
    for (Use use : Use.values()) {
      if (use == Use.NONE) {
        continue;
      }
      long held = heldBy(use, THREADS, memory);
      System.out.printf(
          Locale.ROOT, "| %s | %.0f |%n", use.what, (double) (held - baseline) / THREADS);
    }
    System.out.printf(
        Locale.ROOT,
        "%nInstance sizes (JOL): thread state %d B, Context %d B, Token %d B; the thread's"
            + " ThreadLocal entry (ThreadLocalMap.Entry) %d B; a slot array of 4 slots %d B.%n",
        instanceSize("org.contextvars4j.ThreadState"),
        instanceSize("org.contextvars4j.Context"),
        instanceSize("org.contextvars4j.Token"),
        instanceSize("java.lang.ThreadLocal$ThreadLocalMap$Entry"),
        ClassLayout.parseInstance(new Object[8]).instanceSize());
  }

  private static long instanceSize(String className) throws ClassNotFoundException {
    return ClassLayout.parseClass(Class.forName(className)).instanceSize();
  }

  /** Starts {@code count} virtual threads that {@code use} the library and park; measures. */
  private static long heldBy(Use use, int count, MemoryMXBean memory) throws Exception {
    Parking parking = new Parking(new CountDownLatch(count), new CountDownLatch(1));
    List<Thread> threads = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      use.then(parking);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }));
    }
    if (!parking.parked().await(5, TimeUnit.MINUTES)) {
      throw new IllegalStateException(use + ": threads did not park within 5 minutes");
    }
    long held = heapAfterCollection(memory);
    parking.release().countDown();
    for (Thread thread : threads) {
      thread.join(TimeUnit.MINUTES.toMillis(5));
    }
    return held;
  }

  /** The heap in use after collections, once two in a row agree within 0.1 % (at most 10). */
  private static long heapAfterCollection(MemoryMXBean memory) {
    long previous = Long.MAX_VALUE;
    for (int round = 0; round < 10; round++) {
      System.gc();
      long used = memory.getHeapMemoryUsage().getUsed();
      if (Math.abs(used - previous) <= previous / 1000) {
        return used;
      }
      previous = used;
    }
    return previous;
  }
}
