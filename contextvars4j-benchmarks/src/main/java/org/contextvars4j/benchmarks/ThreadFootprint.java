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
import org.openjdk.jol.info.GraphLayout;

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
  private static class Parking {
    private final CountDownLatch parked;
    private final CountDownLatch release;

    Parking(CountDownLatch parked, CountDownLatch release) {
      this.parked = parked;
      this.release = release;
    }

    CountDownLatch parked() {
      return parked;
    }

    CountDownLatch release() {
      return release;
    }

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
    long before = heldBy(Use.NONE, THREADS, memory);
    long[] held = new long[Use.values().length];
    for (Use use : Use.values()) {
      if (use != Use.NONE) {
        held[use.ordinal()] = heldBy(use, THREADS, memory);
      }
    }
    long after = heldBy(Use.NONE, THREADS, memory);
    long baseline = (before + after) / 2;
    System.out.printf(
        Locale.ROOT,
        "%n## 8. Memory per thread%n%n"
            + "**JOL**, exact: the objects a thread that used the library keeps, as JOL's"
            + " GraphLayout counts them from the thread's state (each counted once), less what it"
            + " shares with every other thread (the variables, the value, the empty mapping and slot array);"
            + " plus the thread's ThreadLocal entry (%d B), and, for a thread that had no"
            + " ThreadLocal before, the ThreadLocalMap and its first table (%d B) that the first"
            + " ThreadLocal of any kind makes. Target: at most 128 bytes per thread beyond the"
            + " values.%n%n| what the thread did | its state (JOL) | + entry | + map, if the"
            + " library was its first ThreadLocal |%n|---|---:|---:|---:|%n",
        ENTRY,
        MAP);
    for (Use use : Use.values()) {
      if (use == Use.OWN_CONTEXT) {
        // Its graph reaches the thread itself, through the entered context's owner field: the
        // state and the Context by their instance sizes instead.
        long state =
            instanceSize("org.contextvars4j.ThreadState") + instanceSize("org.contextvars4j.Context");
        System.out.printf(
            Locale.ROOT,
            "| %s | %d (state + the Context, instance sizes) | %d | %d |%n",
            use.what,
            state,
            state + ENTRY,
            state + ENTRY + MAP);
      } else if (use != Use.NONE) {
        long state = stateBytes(use);
        System.out.printf(
            Locale.ROOT,
            "| %s | %d | %d | %d |%n",
            use.what,
            state,
            state + ENTRY,
            state + ENTRY + MAP);
      }
    }
    System.out.printf(
        Locale.ROOT,
        "%n**%,d parked virtual threads**: heap held after full collections, less the same"
            + " threads parked without the library (measured before and after the others: %,d"
            + " and %,d bytes, %+.0f bytes per thread apart, which is this method's noise),"
            + " divided by the thread count.%n%n| what each thread did | bytes per thread |%n"
            + "|---|---:|%n",
        THREADS,
        before,
        after,
        (double) (after - before) / THREADS);
    for (Use use : Use.values()) {
      if (use != Use.NONE) {
        System.out.printf(
            Locale.ROOT,
            "| %s | %.0f |%n",
            use.what,
            (double) (held[use.ordinal()] - baseline) / THREADS);
      }
    }
    System.out.printf(
        Locale.ROOT,
        "%nInstance sizes (JOL): thread state %d B, Context %d B, Token %d B.%n",
        instanceSize("org.contextvars4j.ThreadState"),
        instanceSize("org.contextvars4j.Context"),
        instanceSize("org.contextvars4j.Token"));
  }

  /** A ThreadLocalMap.Entry: its referent, queue, next, discovered and value fields. */
  private static final long ENTRY = 32;

  /** A ThreadLocalMap (24 B) and its initial table of 16 references (80 B). */
  private static final long MAP = 104;

  /**
   * The bytes reachable from the state of a new platform thread that did {@code use}, less the
   * objects every thread shares. Reads the state through the library's own ThreadLocal.
   */
  private static long stateBytes(Use use) throws Exception {
    java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
    Parking parking = new Parking(new CountDownLatch(1), new CountDownLatch(0));
    Class<?> stateClass = Class.forName("org.contextvars4j.ThreadState");
    java.lang.reflect.Field field = stateClass.getDeclaredField("STATE");
    field.setAccessible(true);
    ThreadLocal<?> local = (ThreadLocal<?>) field.get(null);
    java.lang.reflect.Field empty = Class.forName("org.contextvars4j.Vars").getDeclaredField("EMPTY");
    empty.setAccessible(true);
    java.lang.reflect.Field noEntries = stateClass.getDeclaredField("NO_ENTRIES");
    noEntries.setAccessible(true);
    Thread thread =
        new Thread(
            () -> {
              try {
                use.then(
                    new Parking(parking.parked(), parking.release()) {
                      @Override
                      void park() {
                        try {
                          Object state = local.get();
                          GraphLayout all = GraphLayout.parseInstance(state);
                          GraphLayout shared =
                              GraphLayout.parseInstance(
                                  empty.get(null), noEntries.get(null), FIRST, SECOND, SHARED);
                          bytes.set(all.subtract(shared).totalSize());
                        } catch (IllegalAccessException e) {
                          throw new IllegalStateException(e);
                        }
                      }
                    });
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    thread.start();
    thread.join(TimeUnit.MINUTES.toMillis(1));
    return bytes.get();
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
