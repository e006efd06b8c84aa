package org.contextvars4j.concurrent;

import static java.util.concurrent.TimeUnit.MICROSECONDS;
import static java.util.concurrent.TimeUnit.NANOSECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Many concurrent logical requests hop between threads through every propagation helper, and none
 * may ever see another's values: the "no bleed" property of the whole {@code concurrent} package
 * under load.
 *
 * <p>Each request binds its own id, and each hop sets a second variable to a value naming the
 * request and the hop. A request hops a random number of times (3 to 6) through randomly chosen
 * routes: wrapped fixed, fork-join and scheduled pools, {@link ContextFutures} chains on plain
 * executors (so that only the future carries the context), virtual threads started with {@link
 * ContextThreads}, and the wrapped virtual-thread executor. At every hop the request checks that it
 * sees its own id, the value its previous hop set and nothing else. After the run, every thread of
 * every pool must have its own context exactly as before: empty.
 *
 * <p>The random choices come from a seed, printed when the test starts and named in every failure;
 * to replay them (the scheduling itself cannot be replayed), run
 *
 * {@snippet lang = shell :
 * mvn -pl contextvars4j-core test -Dtest=NoBleedStressTest -Dcv4j.seed=1234567
 * }
 *
 * <p>{@code -Dcv4j.stress.requests=N} changes the number of requests (default 10,000). At most
 * {@link #IN_FLIGHT} requests run at once, so that the test stays fast on two slow cores; every
 * wait is bounded.
 */
final class NoBleedStressTest {

  /** The seed of every random choice: {@code -Dcv4j.seed}, else the clock. */
  private static final long SEED = Long.getLong("cv4j.seed", System.nanoTime());

  private static final int REQUESTS = Integer.getInteger("cv4j.stress.requests", 10_000);

  /** How many requests run at once, at most. */
  private static final int IN_FLIGHT = 2_000;

  private static final int FIXED_THREADS = 4;
  private static final int FORK_JOIN_PARALLELISM = 4;
  private static final int SCHEDULED_THREADS = 2;

  /** The bound on the whole run; far above what it takes, so only a lost request trips it. */
  private static final long RUN_TIMEOUT_SECONDS = 50;

  /** The bound on every other wait. */
  private static final long TIMEOUT_SECONDS = 20;

  /** How many mismatch descriptions to keep for the failure message. */
  private static final int DESCRIPTIONS_KEPT = 10;

  private static final ContextVar<Integer> REQUEST_ID = ContextVar.named("request_id");
  private static final ContextVar<String> HOP = ContextVar.named("hop");

  /** The routes a request can take from one hop to the next. */
  enum Route {
    FIXED_POOL,
    FORK_JOIN_POOL,
    SCHEDULED_POOL,
    VIRTUAL_THREAD,
    VIRTUAL_THREAD_EXECUTOR,
    /** {@code thenApplyAsync} of a complete future, on a plain executor. */
    FUTURE_APPLY_ASYNC,
    /** {@code thenCompose} over a plain inner future completed by a plain pool thread. */
    FUTURE_COMPOSE,
    /** {@code whenComplete} of a wrapped plain future completed by a plain pool thread. */
    FUTURE_WHEN_COMPLETE,
    /** supplyAsync, thenApplyAsync, thenCompose, whenCompleteAsync: checks at every stage. */
    FUTURE_CHAIN
  }

  // The pools, each delegate made by a factory that records how each of its threads ends.
  private final Map<String, Integer> exitSizes = new ConcurrentHashMap<>();
  private final Queue<Thread> poolThreads = new ConcurrentLinkedQueue<>();
  private final AtomicInteger forkJoinSerial = new AtomicInteger();
  private ExecutorService rawFixed;
  private ForkJoinPool rawForkJoin;
  private ScheduledExecutorService rawScheduled;
  private ExecutorService fixed;
  private ExecutorService forkJoin;
  private ScheduledExecutorService scheduled;
  private ExecutorService virtualThreads;

  // What the run found.
  private final AtomicLong checks = new AtomicLong();
  private final AtomicLong hops = new AtomicLong();
  private final AtomicLongArray routesTaken = new AtomicLongArray(Route.values().length);
  private final AtomicInteger mismatches = new AtomicInteger();
  private final Queue<String> descriptions = new ConcurrentLinkedQueue<>();
  private final List<Request> requests = new ArrayList<>();

  private Semaphore inFlight;
  private CountDownLatch finished;

  @AfterEach
  void testThreadsOwnContextIsEmpty() {
    assertThat(Context.copyCurrent().size())
        .as("the test left no value in the test thread's own context")
        .isZero();
  }

  @Test
  void requests_hopAcrossEveryRoute_eachSeesOnlyItsOwnValuesAndPoolThreadsStayClean()
      throws Exception {
    System.out.printf(
        "NoBleedStressTest: seed %d (replay with -Dcv4j.seed=%d), %d requests%n",
        SEED, SEED, REQUESTS);
    startPools();
    long start = System.nanoTime();
    try {
      runRequests();
    } finally {
      long runMillis = (System.nanoTime() - start) / 1_000_000;
      Map<Route, Long> taken = new EnumMap<>(Route.class);
      for (Route route : Route.values()) {
        taken.put(route, routesTaken.get(route.ordinal()));
      }
      System.out.printf(
          "NoBleedStressTest: %d requests, %d hops, %d checks, %d mismatches in %d ms;"
              + " routes %s%n",
          REQUESTS - finished.getCount(),
          hops.get(),
          checks.get(),
          mismatches.get(),
          runMillis,
          taken);
    }

    assertThat(mismatches.get())
        .as(
            "seed %d: hops that saw another request's values, or none; first ones: %s",
            SEED, descriptions)
        .isZero();
    assertThat(hops.get()).as("seed %d", SEED).isGreaterThanOrEqualTo(3L * REQUESTS);
    for (Route route : Route.values()) {
      assertThat(routesTaken.get(route.ordinal()))
          .as("seed %d: %s was taken", SEED, route)
          .isPositive();
    }

    probeLivePoolThreads();
    stopPoolsAndCheckEveryThreadEndedClean();
  }

  /* ---- the requests ---- */

  /** One logical request: its id, its random choices, and how many hops it makes. */
  private final class Request {
    final int id;
    final SplittableRandom random;
    final int lastHop;
    final Context root;
    private final AtomicBoolean done = new AtomicBoolean();

    Request(int id, SplittableRandom random) {
      this.id = id;
      this.random = random;
      this.lastHop = 3 + random.nextInt(4);
      this.root = new Context();
    }

    /** The value hop {@code k} sets, which hop {@code k + 1} must see. */
    String hopValue(int k) {
      return id + "/" + k;
    }

    void finish() {
      if (done.compareAndSet(false, true)) {
        finished.countDown();
        inFlight.release();
      }
    }

    /**
     * Checks the root context once its run has ended (which is when a context's sets are written
     * back for other threads to see): it was last changed before the first hop was handed over,
     * and no hop changed it.
     */
    void checkRoot() {
      Map<ContextVar<?>, Object> expected = Map.of(REQUEST_ID, id, HOP, hopValue(0));
      if (!root.asMap().equals(expected)) {
        mismatch(this, "finish", "root context changed to " + root.asMap());
      }
    }
  }

  private void runRequests() throws InterruptedException {
    inFlight = new Semaphore(IN_FLIGHT);
    finished = new CountDownLatch(REQUESTS);
    SplittableRandom master = new SplittableRandom(SEED);
    long deadline = System.nanoTime() + SECONDS.toNanos(RUN_TIMEOUT_SECONDS);
    for (int id = 1; id <= REQUESTS; id++) {
      long left = deadline - System.nanoTime();
      assertThat(inFlight.tryAcquire(Math.max(left, 0), NANOSECONDS))
          .as(
              "seed %d: a request slot freed up in time (%d requests unfinished)",
              SEED, finished.getCount())
          .isTrue();
      Request request = new Request(id, master.split());
      requests.add(request);
      request.root.run(
          () -> {
            REQUEST_ID.set(request.id);
            HOP.set(request.hopValue(0));
            send(request, 1);
          });
    }
    long left = deadline - System.nanoTime();
    assertThat(finished.await(Math.max(left, 0), NANOSECONDS))
        .as(
            "seed %d: every request finished within %d s (%d did not); first mismatches: %s",
            SEED, RUN_TIMEOUT_SECONDS, finished.getCount(), descriptions)
        .isTrue();
    // Every root run has returned (on this thread) and every last hop has finished (the latch).
    for (Request request : requests) {
      request.checkRoot();
    }
  }

  /**
   * Hop {@code k} of {@code request}: runs in what should be a copy of hop {@code k - 1}'s context;
   * checks it, sets this hop's value, and hands hop {@code k + 1} over by a random route.
   */
  private void hop(Request request, int k, Route via) {
    try {
      hops.incrementAndGet();
      check(request, request.hopValue(k - 1), "hop " + k + " via " + via);
      HOP.set(request.hopValue(k));
      if (k == request.lastHop) {
        request.finish();
        return;
      }
      send(request, k + 1);
      // A set after the handover: the next hop must not see it, whenever it runs.
      HOP.set(request.hopValue(k) + " after handing over");
    } catch (Throwable t) {
      mismatch(request, "hop " + k + " via " + via, "threw " + t);
      request.finish();
    }
  }

  /** Hands hop {@code k} over, from the current context, by a random route. */
  private void send(Request request, int k) {
    SplittableRandom random = request.random;
    Route route = Route.values()[random.nextInt(Route.values().length)];
    routesTaken.incrementAndGet(route.ordinal());
    Runnable next = () -> hop(request, k, route);
    String here = request.hopValue(k - 1); // what the stages attached here must see
    switch (route) {
      case FIXED_POOL -> fixed.execute(next);
      case FORK_JOIN_POOL -> forkJoin.execute(next);
      case SCHEDULED_POOL -> scheduled.schedule(next, random.nextInt(1_001), MICROSECONDS);
      case VIRTUAL_THREAD -> ContextThreads.start(Thread.ofVirtual(), next);
      case VIRTUAL_THREAD_EXECUTOR -> virtualThreads.execute(next);
      case FUTURE_APPLY_ASYNC -> {
        Executor executor = plainExecutor(random);
        CompletableFuture<Integer> source = ContextFutures.completedFuture(request.id);
        CompletableFuture<Integer> stage =
            executor == null
                ? source.thenApplyAsync(id -> run(next, id))
                : source.thenApplyAsync(id -> run(next, id), executor);
        reportFailure(request, stage, route);
      }
      case FUTURE_COMPOSE -> {
        Executor completer = plainExecutor(random, rawFixed);
        CompletableFuture<Integer> inner = new CompletableFuture<>();
        ContextFutures.completedFuture(request.id)
            .thenCompose(
                id -> {
                  check(request, here, "compose function");
                  HOP.set(here + " compose");
                  // A plain task: it completes the inner future in the pool thread's own context.
                  completer.execute(() -> inner.complete(id));
                  return inner;
                })
            .whenComplete((id, failure) -> runAfter(request, failure, next, here, route));
      }
      case FUTURE_WHEN_COMPLETE -> {
        Executor completer = plainExecutor(random, rawForkJoin);
        CompletableFuture<Integer> original = new CompletableFuture<>();
        ContextFutures.wrap(original)
            .whenComplete((id, failure) -> runAfter(request, failure, next, here, route));
        completer.execute(() -> original.complete(request.id));
      }
      case FUTURE_CHAIN -> chain(request, next, here, random);
    }
  }

  /** Four stages on four executors; each checks what it sees, then sets its own value. */
  private void chain(Request request, Runnable next, String here, SplittableRandom random) {
    Executor first = plainExecutor(random, rawFixed);
    Executor second = plainExecutor(random, rawForkJoin);
    Executor inner = plainExecutor(random, rawScheduled);
    Executor last = plainExecutor(random, rawFixed);
    ContextFutures.supplyAsync(
            () -> {
              check(request, here, "chain supplier");
              HOP.set(here + " supplier");
              return request.id;
            },
            first)
        .thenApplyAsync(
            id -> {
              check(request, here, "chain thenApplyAsync");
              HOP.set(here + " thenApplyAsync");
              return id;
            },
            second)
        .thenCompose(
            id -> {
              check(request, here, "chain thenCompose");
              HOP.set(here + " thenCompose");
              // Created inside the compose function: runs in a copy of its context.
              return ContextFutures.supplyAsync(
                  () -> {
                    check(request, here + " thenCompose", "chain inner supplier");
                    HOP.set(here + " inner");
                    return id;
                  },
                  inner);
            })
        .whenCompleteAsync(
            (id, failure) -> runAfter(request, failure, next, here, Route.FUTURE_CHAIN), last);
  }

  /** A stage's function that hands over the next hop: checks first, then runs it here. */
  private void runAfter(
      Request request, Throwable failure, Runnable next, String here, Route route) {
    if (failure != null) {
      mismatch(request, route + " stage", "the future failed: " + failure);
    }
    check(request, here, route + " last stage");
    next.run();
  }

  private static <T> T run(Runnable next, T value) {
    next.run();
    return value;
  }

  /** Counts a future's failure (an exception escaping a hop) as a mismatch. */
  private void reportFailure(Request request, CompletableFuture<?> stage, Route route) {
    stage.whenComplete(
        (v, failure) -> {
          if (failure != null) {
            mismatch(request, route.toString(), "the future failed: " + failure);
            request.finish();
          }
        });
  }

  /** A plain (unwrapped) executor, or null for the JDK's default one. */
  private Executor plainExecutor(SplittableRandom random) {
    return switch (random.nextInt(3)) {
      case 0 -> rawFixed;
      case 1 -> rawForkJoin;
      default -> null;
    };
  }

  /** A plain (unwrapped) executor: {@code preferred} or another of the pools. */
  private Executor plainExecutor(SplittableRandom random, Executor preferred) {
    return switch (random.nextInt(4)) {
      case 0 -> rawFixed;
      case 1 -> rawForkJoin;
      case 2 -> rawScheduled;
      default -> preferred;
    };
  }

  /** Checks that the current context is exactly {@code request}'s, as of {@code hopValue}. */
  private void check(Request request, String hopValue, String where) {
    checks.incrementAndGet();
    Integer id = REQUEST_ID.getOrDefault(null);
    String hop = HOP.getOrDefault(null);
    int size = Context.copyCurrent().size();
    if (id == null || id != request.id || !hopValue.equals(hop) || size != 2) {
      mismatch(
          request,
          where,
          String.format(
              "saw request_id=%s hop=%s (%d variables), expected %d and %s",
              id, hop, size, request.id, hopValue));
    }
  }

  private void mismatch(Request request, String where, String what) {
    if (mismatches.incrementAndGet() <= DESCRIPTIONS_KEPT) {
      descriptions.add(
          String.format(
              "request %d, %s, on %s: %s",
              request.id, where, Thread.currentThread().getName(), what));
    }
  }

  /* ---- the pools ---- */

  private void startPools() {
    rawFixed = Executors.newFixedThreadPool(FIXED_THREADS, recordingFactory("fixed-"));
    rawForkJoin =
        new ForkJoinPool(
            FORK_JOIN_PARALLELISM,
            pool -> {
              RecordingWorker worker = new RecordingWorker(pool);
              poolThreads.add(worker);
              return worker;
            },
            null,
            false);
    rawScheduled =
        Executors.newScheduledThreadPool(SCHEDULED_THREADS, recordingFactory("scheduled-"));
    fixed = ContextExecutors.wrap(rawFixed);
    forkJoin = ContextExecutors.wrap((ExecutorService) rawForkJoin);
    scheduled = ContextExecutors.wrap(rawScheduled);
    virtualThreads = ContextExecutors.newVirtualThreadPerTaskExecutor();
  }

  /**
   * A factory whose threads, when their pool lets them go, record the size of their own context:
   * what every task before left behind.
   */
  private ThreadFactory recordingFactory(String prefix) {
    AtomicInteger serial = new AtomicInteger();
    return task -> {
      Thread thread =
          new Thread(
              () -> {
                try {
                  task.run();
                } finally {
                  exitSizes.put(Thread.currentThread().getName(), Context.copyCurrent().size());
                }
              },
              prefix + serial.incrementAndGet());
      thread.setDaemon(true);
      poolThreads.add(thread);
      return thread;
    };
  }

  /** A fork-join worker that records the size of its own context when it terminates. */
  private final class RecordingWorker extends ForkJoinWorkerThread {
    RecordingWorker(ForkJoinPool pool) {
      // Keeps thread-locals between tasks (true), as the default factory's workers do: a pool
      // that cleared them after each task would hide a leak into the thread's own context.
      super(null, pool, true);
      setName("fork-join-" + forkJoinSerial.incrementAndGet());
      setDaemon(true);
    }

    @Override
    protected void onTermination(Throwable exception) {
      try {
        exitSizes.put(getName(), Context.copyCurrent().size());
      } finally {
        super.onTermination(exception);
      }
    }
  }

  /**
   * Runs an unwrapped probe on every thread of the fixed and scheduled pools at once (a barrier
   * sized to the pool keeps each thread busy until all have been probed).
   */
  private void probeLivePoolThreads() throws Exception {
    assertThat(probe(rawFixed, FIXED_THREADS))
        .as("seed %d: every fixed-pool thread's own context, after the run", SEED)
        .hasSize(FIXED_THREADS)
        .allSatisfy((thread, size) -> assertThat(size).as(thread).isZero());
    assertThat(probe(rawScheduled, SCHEDULED_THREADS))
        .as("seed %d: every scheduled-pool thread's own context, after the run", SEED)
        .hasSize(SCHEDULED_THREADS)
        .allSatisfy((thread, size) -> assertThat(size).as(thread).isZero());
  }

  private static Map<String, Integer> probe(ExecutorService pool, int threads) throws Exception {
    CyclicBarrier allThreads = new CyclicBarrier(threads);
    List<Future<Map.Entry<String, Integer>>> probes = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      probes.add(
          pool.submit(
              () -> {
                Map.Entry<String, Integer> seen =
                    Map.entry(Thread.currentThread().getName(), Context.copyCurrent().size());
                allThreads.await(TIMEOUT_SECONDS, SECONDS);
                return seen;
              }));
    }
    Map<String, Integer> sizes = new ConcurrentHashMap<>();
    for (Future<Map.Entry<String, Integer>> probe : probes) {
      Map.Entry<String, Integer> seen = probe.get(TIMEOUT_SECONDS, SECONDS);
      sizes.put(seen.getKey(), seen.getValue());
    }
    return sizes;
  }

  /** Stops every pool, and checks what each of its threads recorded as it ended. */
  private void stopPoolsAndCheckEveryThreadEndedClean() throws InterruptedException {
    for (ExecutorService pool : List.of(fixed, forkJoin, scheduled, virtualThreads)) {
      pool.shutdown();
    }
    for (ExecutorService pool : List.of(rawFixed, rawForkJoin, rawScheduled, virtualThreads)) {
      assertThat(pool.awaitTermination(TIMEOUT_SECONDS, SECONDS)).as("%s stopped", pool).isTrue();
    }
    // A pool is terminated once its last worker has finished its work, maybe a moment before
    // that worker's last line: join every thread (bounded) before reading the records.
    for (Thread thread : poolThreads) {
      thread.join(Duration.ofSeconds(TIMEOUT_SECONDS));
      assertThat(thread.isAlive()).as("%s ended", thread).isFalse();
    }
    assertThat(exitSizes)
        .as("seed %d: each pool thread's own context as it ended", SEED)
        .hasSize(poolThreads.size())
        .allSatisfy((thread, size) -> assertThat(size).as(thread).isZero());
  }
}
