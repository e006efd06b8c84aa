package org.contextvars4j.agent;

import static java.util.concurrent.TimeUnit.MICROSECONDS;
import static java.util.concurrent.TimeUnit.NANOSECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Many concurrent logical requests hop between threads through the raw JDK, and none may ever see
 * another's values: the "no bleed" property of the agent under load. Port of the core's {@code
 * NoBleedStressTest}, with the JDK's own pools, futures and threads in place of the wrappers.
 *
 * <p>Each request binds its own id, and each hop sets a second variable to a value naming the
 * request and the hop. A request hops a random number of times (3 to 6) through randomly chosen
 * routes: a fixed thread pool ({@code execute} and {@code submit}), a {@code ForkJoinPool}, a
 * {@code ScheduledThreadPoolExecutor}, platform and virtual threads, the virtual-thread-per-task
 * executor, and {@code CompletableFuture} chains on those pools. At every hop the request checks
 * that it sees its own id, the value its previous hop set, and nothing else. The pools are made
 * lazily by the requests themselves: every pool thread must have started empty, and must end
 * with its own context empty.
 *
 * <p>The random choices come from a seed, printed when the test starts and named in every failure;
 * to replay them (the scheduling itself cannot be replayed), run with {@code -Dcv4j.seed=N}. {@code
 * -Dcv4j.stress.requests=N} changes the number of requests (default 10,000). At most {@link
 * #IN_FLIGHT} requests run at once; every wait is bounded.
 */
final class NoBleedStressIT {

  /** The seed of every random choice: {@code -Dcv4j.seed}, else the clock. */
  private static final long SEED = Long.getLong("cv4j.seed", System.nanoTime());

  private static final int REQUESTS = Integer.getInteger("cv4j.stress.requests", 10_000);

  /** How many requests run at once, at most. */
  private static final int IN_FLIGHT = 1_000;

  private static final int FIXED_THREADS = 4;
  private static final int FORK_JOIN_PARALLELISM = 4;
  private static final int SCHEDULED_THREADS = 2;

  /** The bound on the whole run; far above what it takes, so only a lost request trips it. */
  private static final long RUN_TIMEOUT_SECONDS = 60;

  /** The bound on every other wait. */
  private static final long TIMEOUT_SECONDS = 20;

  /** How many mismatch descriptions to keep for the failure message. */
  private static final int DESCRIPTIONS_KEPT = 10;

  private static final ContextVar<Integer> REQUEST_ID = ContextVar.named("request_id");
  private static final ContextVar<String> HOP = ContextVar.named("hop");

  /** The routes a request can take from one hop to the next. */
  enum Route {
    FIXED_POOL_EXECUTE,
    FIXED_POOL_SUBMIT,
    FORK_JOIN_POOL,
    SCHEDULED_POOL,
    PLATFORM_THREAD,
    VIRTUAL_THREAD,
    VIRTUAL_THREAD_EXECUTOR,
    /** {@code thenApplyAsync} of a complete future, on a pool or the default executor. */
    FUTURE_APPLY_ASYNC,
    /** {@code thenCompose} over an inner future completed by a pool thread. */
    FUTURE_COMPOSE,
    /** {@code whenComplete} of a future completed by a pool thread. */
    FUTURE_WHEN_COMPLETE,
    /** supplyAsync, thenApplyAsync, thenCompose, whenCompleteAsync: checks at every stage. */
    FUTURE_CHAIN
  }

  // The pools; their threads record their own context at start and at end.
  private final Support.OwnContexts fixedThreads =
      new Support.OwnContexts(Thread.ofPlatform().daemon().name("fixed-", 0).factory());
  private final Support.OwnContexts scheduledThreads =
      new Support.OwnContexts(Thread.ofVirtual().name("scheduled-", 0).factory());
  private final Support.OwnForkJoinContexts forkJoinThreads = new Support.OwnForkJoinContexts(null);
  private ExecutorService fixed;
  private ForkJoinPool forkJoin;
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
  void requests_hopAcrossEveryRoute_eachSeesOnlyItsOwnValues_andPoolThreadsStayClean()
      throws Exception {
    System.out.printf(
        "NoBleedStressIT: seed %d (replay with -Dcv4j.seed=%d), %d requests%n",
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
          "NoBleedStressIT: %d requests, %d hops, %d checks, %d mismatches in %d ms; routes %s%n",
          REQUESTS - finished.getCount(),
          hops.get(),
          checks.get(),
          mismatches.get(),
          runMillis,
          taken);
      stopPools();
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
    checkEveryPoolThreadStartedAndEndedClean();
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

    /** The root context, once its run ended: last changed before the first hop; no hop changed it. */
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
      case FIXED_POOL_EXECUTE -> fixed.execute(next);
      case FIXED_POOL_SUBMIT ->
          fixed.submit(
              () -> {
                next.run();
                return request.id;
              });
      case FORK_JOIN_POOL -> forkJoin.execute(next);
      case SCHEDULED_POOL -> scheduled.schedule(next, random.nextInt(1_001), MICROSECONDS);
      case PLATFORM_THREAD -> {
        Thread thread = new Thread(next);
        thread.setDaemon(true);
        thread.start();
      }
      case VIRTUAL_THREAD -> Thread.ofVirtual().start(next);
      case VIRTUAL_THREAD_EXECUTOR -> virtualThreads.execute(next);
      case FUTURE_APPLY_ASYNC -> {
        Executor executor = executor(random);
        CompletableFuture<Integer> source = CompletableFuture.completedFuture(request.id);
        CompletableFuture<Integer> stage =
            executor == null
                ? source.thenApplyAsync(id -> run(next, id))
                : source.thenApplyAsync(id -> run(next, id), executor);
        reportFailure(request, stage, route);
      }
      case FUTURE_COMPOSE -> {
        Executor completer = executor(random, fixed);
        CompletableFuture<Integer> inner = new CompletableFuture<>();
        CompletableFuture.completedFuture(request.id)
            .thenCompose(
                id -> {
                  check(request, here, "compose function");
                  HOP.set(here + " compose");
                  completer.execute(() -> inner.complete(id));
                  return inner;
                })
            .whenComplete((id, failure) -> runAfter(request, failure, next, here, route));
      }
      case FUTURE_WHEN_COMPLETE -> {
        Executor completer = executor(random, forkJoin);
        CompletableFuture<Integer> original = new CompletableFuture<>();
        original.whenComplete((id, failure) -> runAfter(request, failure, next, here, route));
        HOP.set(here + " after attaching"); // the stage must not see it
        completer.execute(() -> original.complete(request.id));
        HOP.set(here);
      }
      case FUTURE_CHAIN -> chain(request, next, here, random);
    }
  }

  /** Four stages on four executors; each checks what it sees, then sets its own value. */
  private void chain(Request request, Runnable next, String here, SplittableRandom random) {
    Executor first = executor(random, fixed);
    Executor second = executor(random, forkJoin);
    Executor inner = executor(random, scheduled);
    Executor last = executor(random, fixed);
    CompletableFuture.supplyAsync(
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
              return CompletableFuture.supplyAsync(
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

  /** One of the pools, or null for the JDK's default executor. */
  private Executor executor(SplittableRandom random) {
    return switch (random.nextInt(4)) {
      case 0 -> fixed;
      case 1 -> forkJoin;
      case 2 -> scheduled;
      default -> null;
    };
  }

  /** One of the pools: {@code preferred} or another. */
  private Executor executor(SplittableRandom random, Executor preferred) {
    return switch (random.nextInt(5)) {
      case 0 -> fixed;
      case 1 -> forkJoin;
      case 2 -> scheduled;
      case 3 -> virtualThreads;
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
              "seed %d: request %d, %s, on %s: %s",
              SEED, request.id, where, Thread.currentThread().getName(), what));
    }
  }

  /* ---- the pools ---- */

  private void startPools() {
    // No thread is started here: the requests' first tasks start them, each from its context.
    fixed = Executors.newFixedThreadPool(FIXED_THREADS, fixedThreads);
    forkJoin = new ForkJoinPool(FORK_JOIN_PARALLELISM, forkJoinThreads, null, false);
    scheduled = Executors.newScheduledThreadPool(SCHEDULED_THREADS, scheduledThreads);
    virtualThreads = Executors.newVirtualThreadPerTaskExecutor();
  }

  private void stopPools() throws InterruptedException {
    for (ExecutorService pool : List.of(fixed, forkJoin, scheduled, virtualThreads)) {
      pool.shutdown();
    }
    for (ExecutorService pool : List.of(fixed, forkJoin, scheduled, virtualThreads)) {
      assertThat(pool.awaitTermination(TIMEOUT_SECONDS, SECONDS)).as("%s stopped", pool).isTrue();
    }
  }

  /** What each pool thread recorded as it started (from some request's context) and ended. */
  private void checkEveryPoolThreadStartedAndEndedClean() throws InterruptedException {
    assertThat(fixedThreads.atEnd())
        .as("seed %d: each fixed-pool thread's own context as it ended", SEED)
        .hasSize(FIXED_THREADS)
        .allSatisfy(mapping -> assertThat(mapping).isEmpty());
    assertThat(fixedThreads.atStart())
        .as("seed %d: each fixed-pool thread, started by a request's submit, started empty", SEED)
        .allSatisfy(mapping -> assertThat(mapping).isEmpty());
    assertThat(scheduledThreads.atEnd())
        .as("seed %d: each scheduled-pool thread's own context as it ended", SEED)
        .hasSize(SCHEDULED_THREADS)
        .allSatisfy(mapping -> assertThat(mapping).isEmpty());
    assertThat(scheduledThreads.atStart())
        .as("seed %d: each scheduled-pool thread started empty", SEED)
        .allSatisfy(mapping -> assertThat(mapping).isEmpty());
    assertThat(forkJoinThreads.atEnd())
        .as("seed %d: each fork-join worker's own context as it ended", SEED)
        .isNotEmpty()
        .allSatisfy(mapping -> assertThat(mapping).isEmpty());
    assertThat(forkJoinThreads.atStart())
        .as("seed %d: each fork-join worker started empty", SEED)
        .allSatisfy(mapping -> assertThat(mapping).isEmpty());
  }
}
