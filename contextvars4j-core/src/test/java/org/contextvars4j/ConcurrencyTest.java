package org.contextvars4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.Phaser;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Concurrency tests of the default suite: many threads reading and setting the same variables,
 * threads racing to enter one {@link Context}, and contexts handed from thread to thread. Every
 * case runs on platform and on virtual threads.
 *
 * <p>Interleavings are randomised by a seeded {@link SplittableRandom}. The seed is printed when
 * the class starts and named in every assertion message; to replay a failure's random choices (the
 * scheduling itself cannot be replayed), run
 *
 * {@snippet lang = shell :
 * mvn -pl contextvars4j-core test -Dtest=ConcurrencyTest -Dcv4j.seed=1234567
 * }
 *
 * <p>Threads are lined up with phasers, latches and handoff queues, never with sleeps, and every
 * wait is bounded by {@link #TIMEOUT}: a lost wake-up fails the test instead of hanging the build.
 * The jcstress module ({@code bin/jcstress}) checks the cache and the enter race under the memory
 * model's worst cases.
 */
final class ConcurrencyTest {

  /** The seed of every random choice in this class: {@code -Dcv4j.seed}, else the clock. */
  private static final long SEED = Long.getLong("cv4j.seed", System.nanoTime());

  /** The bound of every wait. Generous: it only matters when something is already broken. */
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  /** Marks "not bound" in the models below, where {@code null} is a value. */
  private static final Object UNBOUND =
      new Object() {
        @Override
        public String toString() {
          return "<unbound>";
        }
      };

  /** A value that names the thread that made it, so that a leak says where it came from. */
  private record Owned(int thread, int serial) {}

  @BeforeAll
  static void printSeed() {
    System.out.printf("ConcurrencyTest: seed %d (replay with -Dcv4j.seed=%d)%n", SEED, SEED);
  }

  static Stream<ThreadFactory> factories() {
    return Stream.of(Thread.ofPlatform().factory(), Thread.ofVirtual().factory());
  }

  @AfterEach
  void currentContextIsLeftEmpty() {
    assertThat(Context.copyCurrent().asMap())
        .as("seed %d: the test thread's own context is untouched", SEED)
        .isEmpty();
  }

  /* ---- many threads on shared variables: the per-variable cache ---- */

  /**
   * Each thread sets, resets, reads and runs copies of the same shared variables in tight loops, in
   * rounds lined up by a barrier, and checks every read against its own model. Each thread has its
   * own mappings: a read that found anything of another thread's (as a shared per-variable cache
   * once could serve) would see a foreign value.
   */
  @ParameterizedTest
  @MethodSource("factories")
  void get_manyThreadsOnSharedVars_eachSeesOnlyItsOwnValues(ThreadFactory factory)
      throws Exception {
    SplittableRandom random = new SplittableRandom(SEED);
    int threads = 16 + random.nextInt(49); // 16..64
    int rounds = 8;
    int opsPerRound = 10_000;
    List<ContextVar<Object>> vars = new ArrayList<>();
    List<Object> defaults = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      vars.add(ContextVar.named("shared" + i));
      defaults.add(UNBOUND);
    }
    vars.add(ContextVar.named("withDefault", "the default"));
    defaults.add("the default");
    vars.add(ContextVar.named("withNullDefault", null));
    defaults.add(null);
    Gate roundStart = new Gate(threads);

    List<Callable<Void>> tasks = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      SplittableRandom own = random.split();
      tasks.add(
          () -> {
            new OwnValuesWorker(thread, own, vars, defaults).run(roundStart, rounds, opsPerRound);
            return null;
          });
    }
    runAll(factory, tasks, roundStart::breakForGood);
  }

  /** One thread of {@link #get_manyThreadsOnSharedVars_eachSeesOnlyItsOwnValues}. */
  private static final class OwnValuesWorker {
    private final int thread;
    private final SplittableRandom random;
    private final List<ContextVar<Object>> vars;

    /** Each variable's default, or {@code UNBOUND} for none. */
    private final List<Object> defaults;

    /** What each variable must hold now in this thread's current context. */
    private final Object[] expected;

    /** Per variable, the tokens of the sets not yet reset, with the value each replaced. */
    private final List<ArrayDeque<Undo>> undo = new ArrayList<>();

    private int serial;
    private int op;

    private record Undo(Token<Object> token, Object previous) {}

    OwnValuesWorker(
        int thread, SplittableRandom random, List<ContextVar<Object>> vars, List<Object> defaults) {
      this.thread = thread;
      this.random = random;
      this.vars = vars;
      this.defaults = defaults;
      this.expected = new Object[vars.size()];
      Arrays.fill(expected, UNBOUND);
      for (int i = 0; i < vars.size(); i++) {
        undo.add(new ArrayDeque<>());
      }
    }

    void run(Gate roundStart, int rounds, int opsPerRound) throws Exception {
      assertThat(Context.copyCurrent().asMap())
          .as("seed %d: thread %d starts in an empty context", SEED, thread)
          .isEmpty();
      for (int round = 0; round < rounds; round++) {
        roundStart.pass();
        for (int i = 0; i < opsPerRound; i++, op++) {
          step();
        }
        checkAll("end of round " + round);
      }
      // Undo everything: the thread's base context is empty again.
      for (int v = 0; v < vars.size(); v++) {
        while (!undo.get(v).isEmpty()) {
          reset(v);
        }
      }
      checkAll("after undoing every set");
      assertThat(Context.copyCurrent().asMap())
          .as("seed %d: thread %d's context is empty after resetting every token", SEED, thread)
          .isEmpty();
    }

    private void step() {
      int v = random.nextInt(vars.size());
      int dice = random.nextInt(100);
      if (dice < 30) {
        set(v);
      } else if (dice < 50) {
        reset(v);
      } else if (dice < 90) {
        check(v, "read");
      } else if (dice < 97) {
        checkAll("read all");
      } else if (dice < 99) {
        nestedCopy(v);
      } else {
        // Lets the other virtual threads on this carrier run: they would not interleave at all.
        Thread.yield();
      }
    }

    private void set(int v) {
      ArrayDeque<Undo> stack = undo.get(v);
      if (stack.size() >= 8) {
        reset(v);
        return;
      }
      Object value = random.nextInt(10) == 0 ? null : new Owned(thread, serial++);
      stack.push(new Undo(vars.get(v).set(value), expected[v]));
      expected[v] = value;
    }

    private void reset(int v) {
      Undo last = undo.get(v).poll();
      if (last == null) {
        return;
      }
      vars.get(v).reset(last.token());
      expected[v] = last.previous();
    }

    /**
     * Runs a copy of the current context: it starts with this thread's values and keeps its own.
     */
    private void nestedCopy(int v) {
      Context copy = Context.copyCurrent();
      Owned inner = new Owned(thread, serial++);
      copy.run(
          () -> {
            checkAll("inside a copy, before its set");
            vars.get(v).set(inner);
            check(v, inner, "inside a copy, after its set");
          });
      checkAll("after running a copy");
      assertThat(copy.get(vars.get(v)))
          .as("seed %d: thread %d op %d: the copy recorded its set", SEED, thread, op)
          .isSameAs(inner);
    }

    private void checkAll(String where) {
      for (int v = 0; v < vars.size(); v++) {
        check(v, where);
      }
    }

    private void check(int v, String where) {
      check(v, expected[v], where);
    }

    private void check(int v, Object want, String where) {
      ContextVar<Object> var = vars.get(v);
      Object got = var.getOrDefault(UNBOUND);
      if (got != want) {
        // The slow path: only a failing read pays for a described assertion.
        assertThat(got)
            .as(
                "seed %d: thread %d op %d (%s): %s holds %s, another thread's value or a stale"
                    + " one",
                SEED, thread, op, where, var, got)
            .isSameAs(want);
      }
      boolean bound = want != UNBOUND;
      if (var.isBound() != bound) {
        assertThat(var.isBound())
            .as("seed %d: thread %d op %d: isBound of %s", SEED, thread, op, var)
            .isEqualTo(bound);
      }
      Object wantViaGet = bound ? want : defaults.get(v);
      if (wantViaGet != UNBOUND) {
        Object viaGet = var.get();
        if (viaGet != wantViaGet) {
          assertThat(viaGet)
              .as("seed %d: thread %d op %d: get() of %s", SEED, thread, op, var)
              .isSameAs(wantViaGet);
        }
      } else if (random.nextInt(64) == 0) {
        // The exception path, now and then: it must not disturb the cache either.
        try {
          Object viaGet = var.get();
          fail(
              "seed %d: thread %d op %d: get() of unbound %s returned %s",
              SEED, thread, op, var, viaGet);
        } catch (NoSuchElementException expected) {
          // as it should
        }
      }
    }
  }

  /* ---- threads racing to enter one context ---- */

  /** The ways to enter a context; each must lose a race in the same way. */
  private enum Entry {
    RUN {
      @Override
      void enter(Context context, Runnable body) {
        context.run(body);
      }
    },
    CALL {
      @Override
      void enter(Context context, Runnable body) {
        Object result =
            context.call(
                () -> {
                  body.run();
                  return "result";
                });
        assertThat(result).isEqualTo("result");
      }
    },
    ENTER {
      @Override
      void enter(Context context, Runnable body) {
        try (Context.Scope ignored = context.enter()) {
          body.run();
        }
      }
    },
    WRAP {
      @Override
      void enter(Context context, Runnable body) {
        context.wrap(body).run();
      }
    };

    abstract void enter(Context context, Runnable body);
  }

  /** Two threads, many rounds: see {@link #race}. */
  @ParameterizedTest
  @MethodSource("factories")
  void run_twoThreadsRaceToEnterOneContext_exactlyOneWinsEachRound(ThreadFactory factory)
      throws Exception {
    race(factory, 2, 5_000);
  }

  /** Many threads, many rounds: see {@link #race}. */
  @ParameterizedTest
  @MethodSource("factories")
  void enter_manyThreadsRaceToEnterOneContext_exactlyOneWinsEachRound(ThreadFactory factory)
      throws Exception {
    race(factory, 8, 300);
  }

  /**
   * In each round, {@code threads} threads are released by a barrier, wait a random moment, and try
   * to enter the same context in a random way. The winner stays inside until every other thread has
   * tried, so each round must have exactly one winner, and every loser must get {@code already
   * entered} with its own current context unchanged. The winner also increments a counter in the
   * shared context: every round's increment must be seen by the next round's winner, which is
   * usually another thread.
   */
  private static void race(ThreadFactory factory, int threads, int rounds) throws Exception {
    SplittableRandom random = new SplittableRandom(SEED);
    ContextVar<Integer> count = ContextVar.named("count");
    ContextVar<Integer> mark = ContextVar.named("mark");
    Context shared = new Context();
    shared.run(() -> count.set(0));

    AtomicInteger winners = new AtomicInteger();
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger maxInside = new AtomicInteger();
    AtomicInteger round = new AtomicInteger(-1);
    AtomicInteger ready = new AtomicInteger();
    AtomicReference<CountDownLatch> tried = new AtomicReference<>();
    Queue<String> badRounds = new ConcurrentLinkedQueue<>();
    int[] wins = new int[threads];
    // The barrier actions run in the last thread to arrive, before any thread is released.
    Gate start =
        new Gate(
            threads,
            () -> {
              round.incrementAndGet();
              tried.set(new CountDownLatch(threads));
            });
    Gate end =
        new Gate(
            threads,
            () -> {
              int w = winners.getAndSet(0);
              if (w != 1) {
                badRounds.add("round " + round.get() + " had " + w + " winners");
              }
            });

    List<Callable<Void>> tasks = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      SplittableRandom own = random.split();
      tasks.add(
          () -> {
            mark.set(thread);
            ThreadState state = ThreadState.current();
            Context home = state.context;
            for (int r = 0; r < rounds; r++) {
              start.pass();
              CountDownLatch allTried = tried.get();
              // Waking from the gate staggers the threads by microseconds; spinning until all are
              // awake lines them up within nanoseconds, and a small random delay then varies who
              // comes first. Now and then a thread yields instead, for the slow interleavings.
              spinUntil(ready, (r + 1) * threads);
              int spins = own.nextInt(16);
              for (int i = 0; i < spins; i++) {
                Thread.onSpinWait();
              }
              if (own.nextInt(16) == 0) {
                Thread.yield();
              }
              Map<ContextVar<?>, Object> before = Context.copyCurrent().asMap();
              Entry entry = Entry.values()[own.nextInt(Entry.values().length)];
              try {
                entry.enter(
                    shared,
                    () -> {
                      winners.incrementAndGet();
                      int now = inside.incrementAndGet();
                      maxInside.accumulateAndGet(now, Math::max);
                      assertThat(mark.isBound())
                          .as("seed %d: the winner sees the shared context, not its own", SEED)
                          .isFalse();
                      count.set(count.get() + 1);
                      allTried.countDown();
                      // Hold the context until every other thread has tried to enter it.
                      awaitLatch(allTried);
                      inside.decrementAndGet();
                    });
                wins[thread]++;
              } catch (IllegalStateException e) {
                assertThat(e)
                    .as("seed %d: thread %d round %d lost (%s)", SEED, thread, r, entry)
                    .hasMessageContaining("already entered");
                assertThat(state.context)
                    .as(
                        "seed %d: thread %d round %d: the loser is still in its context",
                        SEED, thread, r)
                    .isSameAs(home);
                allTried.countDown();
              }
              assertThat(Context.copyCurrent().asMap())
                  .as(
                      "seed %d: thread %d round %d (%s): own context unchanged",
                      SEED, thread, r, entry)
                  .isEqualTo(before);
              assertThat(mark.get())
                  .as("seed %d: thread %d round %d: own mark", SEED, thread, r)
                  .isEqualTo(thread);
              end.pass();
            }
            return null;
          });
    }
    runAll(
        factory,
        tasks,
        () -> {
          start.breakForGood();
          end.breakForGood();
          CountDownLatch latch = tried.get();
          while (latch != null && latch.getCount() > 0) {
            latch.countDown(); // releases a winner waiting for a thread that failed
          }
        });

    assertThat(badRounds).as("seed %d: rounds without exactly one winner", SEED).isEmpty();
    assertThat(maxInside.get()).as("seed %d: threads inside at once", SEED).isEqualTo(1);
    assertThat(Arrays.stream(wins).sum())
        .as("seed %d: wins %s", SEED, Arrays.toString(wins))
        .isEqualTo(rounds);
    assertThat(shared.get(count))
        .as("seed %d: every winner saw the previous winner's increment", SEED)
        .isEqualTo(rounds);
    // Nobody holds the context any more.
    shared.run(() -> assertThat(count.get()).as("seed %d", SEED).isEqualTo(rounds));
  }

  /* ---- a context handed from thread to thread ---- */

  /**
   * Thread A sets values, takes {@link Context#copyCurrent()}, changes its values again and hands
   * the copy to thread B. B must see A's values as of the copy; B's sets inside the copy are
   * recorded in the copy but never reach A's current context, nor B's own.
   */
  @ParameterizedTest
  @MethodSource("factories")
  void copyCurrent_handedToAnotherThread_seesValuesAsOfCopy_andSetsStayInTheCopy(
      ThreadFactory factory) throws Exception {
    SplittableRandom random = new SplittableRandom(SEED);
    int rounds = 2_000;
    List<ContextVar<Object>> vars = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      vars.add(ContextVar.named("handed" + i));
    }
    record Handoff(Context copy, Map<ContextVar<Object>, Object> asOfCopy, int round) {}
    SynchronousQueue<Handoff> toB = new SynchronousQueue<>();
    SynchronousQueue<Map<ContextVar<Object>, Object>> toA = new SynchronousQueue<>();
    SplittableRandom randomA = random.split();
    SplittableRandom randomB = random.split();

    Callable<Void> a =
        () -> {
          Map<ContextVar<Object>, Object> mine = new HashMap<>();
          int serial = 0;
          for (int r = 0; r < rounds; r++) {
            // Before the copy: some sets.
            for (int i = randomA.nextInt(8); i > 0; i--) {
              ContextVar<Object> var = vars.get(randomA.nextInt(vars.size()));
              Owned value = new Owned(0, serial++);
              var.set(value);
              mine.put(var, value);
            }
            Context copy = Context.copyCurrent();
            Map<ContextVar<Object>, Object> asOfCopy = new HashMap<>(mine);
            // After the copy: the copy must not see these.
            for (int i = randomA.nextInt(4); i > 0; i--) {
              ContextVar<Object> var = vars.get(randomA.nextInt(vars.size()));
              Owned value = new Owned(0, serial++);
              var.set(value);
              mine.put(var, value);
            }
            put(toB, new Handoff(copy, asOfCopy, r));
            Map<ContextVar<Object>, Object> setByB = take(toA);

            expectValues(vars, mine, "seed %d round %d: A after B ran the copy", r);
            Map<ContextVar<Object>, Object> inCopy = new HashMap<>(asOfCopy);
            inCopy.putAll(setByB);
            assertThat(copy.asMap())
                .as("seed %d round %d: A reads B's sets in the copy after B's run", SEED, r)
                .isEqualTo(inCopy);
            // A may enter the copy now that B has left it: B's values inside, A's outside.
            int round = r;
            copy.run(
                () -> expectValues(vars, inCopy, "seed %d round %d: A inside the copy", round));
            expectValues(vars, mine, "seed %d round %d: A after running the copy", r);
          }
          return null;
        };
    Callable<Void> b =
        () -> {
          ContextVar<Object> own = vars.get(0);
          own.set("B's own value");
          Map<ContextVar<?>, Object> home = Context.copyCurrent().asMap();
          int serial = 0;
          for (int r = 0; r < rounds; r++) {
            Handoff handoff = take(toB);
            assertThat(handoff.round()).as("seed %d", SEED).isEqualTo(r);
            Map<ContextVar<Object>, Object> setByB = new HashMap<>();
            int count = randomB.nextInt(6);
            List<Owned> values = new ArrayList<>();
            for (int i = 0; i < count; i++) {
              values.add(new Owned(1, serial++));
            }
            handoff
                .copy()
                .run(
                    () -> {
                      expectValues(
                          vars,
                          handoff.asOfCopy(),
                          "seed %d round %d: B inside the copy",
                          handoff.round());
                      for (Owned value : values) {
                        ContextVar<Object> var = vars.get(randomB.nextInt(vars.size()));
                        var.set(value);
                        setByB.put(var, value);
                      }
                      Map<ContextVar<Object>, Object> now = new HashMap<>(handoff.asOfCopy());
                      now.putAll(setByB);
                      expectValues(
                          vars, now, "seed %d round %d: B after its sets", handoff.round());
                    });
            assertThat(Context.copyCurrent().asMap())
                .as("seed %d round %d: B is back in its own context, unchanged", SEED, r)
                .isEqualTo(home);
            put(toA, setByB);
          }
          return null;
        };
    runAll(factory, List.of(a, b));
  }

  /**
   * Thread A and thread B take turns running the same context object, each seeing the other's sets,
   * and each reading the context from outside after the other's run completed (a future).
   */
  @ParameterizedTest
  @MethodSource("factories")
  void run_onAnotherThread_setsAreVisibleToReadersAfterTheRunCompletes(ThreadFactory factory)
      throws Exception {
    SplittableRandom random = new SplittableRandom(SEED);
    int rounds = 200;
    List<ContextVar<Object>> vars = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      vars.add(ContextVar.named("visible" + i));
    }
    ContextVar<Integer> turns = ContextVar.named("turns", 0);

    runAll(
        factory,
        List.of(
            () -> {
              ExecutorService threadB = Executors.newThreadPerTaskExecutor(factory);
              try {
                Context context = new Context();
                Map<ContextVar<?>, Object> model = new HashMap<>();
                for (int r = 0; r < rounds; r++) {
                  int round = r;
                  // Values made here, set there: the run publishes them back through the future.
                  Map<ContextVar<Object>, Object> sets = new HashMap<>();
                  for (int i = random.nextInt(10); i >= 0; i--) {
                    sets.put(vars.get(random.nextInt(vars.size())), new Owned(1, round * 100 + i));
                  }
                  Future<?> run =
                      threadB.submit(
                          () ->
                              context.run(
                                  () -> {
                                    assertThat(turns.get())
                                        .as("seed %d round %d: B sees A's turns", SEED, round)
                                        .isEqualTo(2 * round);
                                    turns.set(turns.get() + 1);
                                    sets.forEach(ContextVar::set);
                                  }));
                  get(run);
                  model.putAll(sets);
                  model.put(turns, 2 * round + 1);

                  assertThat(context.asMap())
                      .as("seed %d round %d: A reads B's sets after the future", SEED, r)
                      .isEqualTo(model);
                  assertThat(context.size())
                      .as("seed %d round %d", SEED, r)
                      .isEqualTo(model.size());
                  for (Map.Entry<ContextVar<?>, Object> e : model.entrySet()) {
                    assertThat(context.get(e.getKey()))
                        .as("seed %d round %d: %s", SEED, r, e.getKey())
                        .isEqualTo(e.getValue());
                  }
                  // A's turn: enter the same context object and read through the variables.
                  context.run(
                      () -> {
                        for (Map.Entry<ContextVar<?>, Object> e : model.entrySet()) {
                          assertThat(e.getKey().get())
                              .as("seed %d round %d: A inside reads %s", SEED, round, e.getKey())
                              .isEqualTo(e.getValue());
                        }
                        turns.set(turns.get() + 1);
                      });
                  model.put(turns, 2 * round + 2);
                  assertThat(turns.get())
                      .as("seed %d: A's own context has no turns", SEED)
                      .isZero();
                }
              } finally {
                shutdown(threadB);
              }
              return null;
            }));
  }

  /**
   * Reading methods on a context that another thread is running see whole mappings: while B binds
   * {@code v0, v1, ...} in order, every snapshot A takes holds exactly a prefix, with its values.
   */
  @ParameterizedTest
  @MethodSource("factories")
  void asMap_whileAnotherThreadSets_seesWholeMappings(ThreadFactory factory) throws Exception {
    int count = 200;
    int passes = 200;
    List<ContextVar<Integer>> vars = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      vars.add(ContextVar.named("prefix" + i));
    }
    Context context = new Context();
    AtomicBoolean done = new AtomicBoolean();
    Gate start = new Gate(2);

    Callable<Void> writer =
        () -> {
          start.pass();
          try {
            for (int p = 0; p < passes; p++) {
              int pass = p;
              List<Token<Integer>> tokens = new ArrayList<>();
              context.run(
                  () -> {
                    for (int i = 0; i < count; i++) {
                      tokens.add(vars.get(i).set(pass * count + i));
                      if ((i & 31) == 0) {
                        Thread.yield(); // lets a virtual reader on the same carrier look
                      }
                    }
                  });
              // Unbind everything again, from the end, so that the prefix shrinks as it grew.
              context.run(
                  () -> {
                    for (int i = count - 1; i >= 0; i--) {
                      vars.get(i).reset(tokens.get(i));
                      if ((i & 31) == 0) {
                        Thread.yield();
                      }
                    }
                  });
            }
          } finally {
            done.set(true);
          }
          return null;
        };
    Callable<Void> reader =
        () -> {
          start.pass();
          long snapshots = 0;
          // At least some snapshots, also when the writer was done before this thread started.
          while (!done.get() || snapshots < 10_000) {
            Map<ContextVar<?>, Object> snapshot = context.asMap();
            int size = snapshot.size();
            Object first = snapshot.get(vars.get(0));
            int base = first == null ? 0 : (Integer) first;
            for (int i = 0; i < count; i++) {
              Object value = snapshot.get(vars.get(i));
              boolean inPrefix = i < size;
              if ((value != null) != inPrefix || (inPrefix && (Integer) value != base + i)) {
                fail(
                    "seed %d: snapshot %d of size %d holds %s at %s: a torn mapping %s",
                    SEED, snapshots, size, value, vars.get(i), snapshot);
              }
            }
            snapshots++;
            if ((snapshots & 7) == 0) {
              Thread.yield();
            }
          }
          return null;
        };
    runAll(factory, List.of(writer, reader), start::breakForGood);
  }

  /* ---- a thread's base context ---- */

  /** The first library call a fresh thread makes; each must create the thread's state lazily. */
  private enum FirstCall {
    GET,
    GET_OR_DEFAULT,
    IS_BOUND,
    SET,
    COPY_CURRENT,
    RUN,
    ENTER,
    THREAD_STATE
  }

  /**
   * Whatever its first call, a fresh thread starts in its own empty base context, created on that
   * first use and not inherited from the thread that started it, even when that thread was inside a
   * context with values.
   */
  @ParameterizedTest
  @MethodSource("factories")
  void baseContext_ofAFreshThread_isEmptyAndCreatedOnFirstUse(ThreadFactory factory)
      throws Exception {
    ContextVar<String> var = ContextVar.named("inherited?");
    ContextVar<String> withDefault = ContextVar.named("withDefault", "default");
    Context parent = new Context();
    parent.run(() -> var.set("the parent's value"));
    ThreadState parentState = ThreadState.current();

    for (FirstCall first : FirstCall.values()) {
      AtomicReference<ThreadState> childState = new AtomicReference<>();
      Callable<Void> child =
          () -> {
            switch (first) {
              case GET -> assertThat(withDefault.get()).isEqualTo("default");
              case GET_OR_DEFAULT -> assertThat(var.getOrDefault("fallback")).isEqualTo("fallback");
              case IS_BOUND -> assertThat(var.isBound()).isFalse();
              case SET -> var.set("the child's value");
              case COPY_CURRENT -> assertThat(Context.copyCurrent().size()).isZero();
              case RUN -> new Context().run(() -> assertThat(var.isBound()).isFalse());
              case ENTER -> {
                try (Context.Scope ignored = new Context().enter()) {
                  assertThat(var.isBound()).isFalse();
                }
              }
              case THREAD_STATE -> {}
            }
            ThreadState state = ThreadState.current();
            childState.set(state);
            assertThat(state)
                .as("seed %d (%s): one state per thread, made on first use", SEED, first)
                .isNotSameAs(parentState)
                .isSameAs(ThreadState.current());
            assertThat(state.context)
                .as("seed %d (%s): back in the thread's base frame", SEED, first)
                .isNull();
            if (first == FirstCall.SET) {
              assertThat(Context.copyCurrent().asMap())
                  .as("seed %d: only the child's own set", SEED)
                  .isEqualTo(Map.of(var, "the child's value"));
            } else {
              assertThat(state.mapping())
                  .as("seed %d (%s): empty base context", SEED, first)
                  .isSameAs(Vars.EMPTY);
              assertThat(var.isBound())
                  .as("seed %d (%s): nothing inherited", SEED, first)
                  .isFalse();
              assertThatThrows(var, first);
            }
            return null;
          };
      // Started from inside a context with values: they must not be inherited.
      parent.call(
          () -> {
            runAll(factory, List.of(child));
            return null;
          });
      assertThat(childState.get()).as("seed %d (%s)", SEED, first).isNotNull();
    }

    // Many short-lived threads in a row (virtual ones on few carriers): each starts empty, however
    // the previous one left its context.
    SplittableRandom random = new SplittableRandom(SEED);
    for (int i = 0; i < 200; i++) {
      int n = i;
      boolean leaveValue = random.nextBoolean();
      runAll(
          factory,
          List.of(
              () -> {
                assertThat(Context.copyCurrent().asMap())
                    .as("seed %d: thread %d starts empty", SEED, n)
                    .isEmpty();
                if (leaveValue) {
                  var.set("left by thread " + n);
                }
                return null;
              }));
    }
  }

  private static void assertThatThrows(ContextVar<String> var, FirstCall first) {
    try {
      String value = var.get();
      fail("seed %d (%s): get() of an unbound variable returned %s", SEED, first, value);
    } catch (NoSuchElementException expected) {
      assertThat(expected).as("seed %d", SEED).hasMessageContaining(var.name());
    }
  }

  /* ---- helpers: every wait is bounded ---- */

  /**
   * Runs each task on its own thread from {@code factory}, waits (bounded) for all of them, and
   * throws the first failure with the others suppressed.
   */
  private static void runAll(ThreadFactory factory, List<? extends Callable<?>> tasks)
      throws Exception {
    runAll(factory, tasks, () -> {});
  }

  /**
   * As {@link #runAll(ThreadFactory, List)}; the first thread to fail runs {@code onFailure}
   * (breaking barriers and latches), so that the others stop waiting for it at once.
   */
  private static void runAll(
      ThreadFactory factory, List<? extends Callable<?>> tasks, Runnable onFailure)
      throws Exception {
    AtomicBoolean failed = new AtomicBoolean();
    List<FutureTask<?>> futures = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    Runnable stopOthers =
        () -> {
          onFailure.run();
          // Wakes whoever waits for the failed thread (a queue, a future, a gate).
          for (Thread thread : threads) {
            if (thread != Thread.currentThread()) {
              thread.interrupt();
            }
          }
        };
    for (Callable<?> task : tasks) {
      FutureTask<?> future =
          new FutureTask<>(
              () -> {
                try {
                  return task.call();
                } catch (Throwable failure) {
                  if (failed.compareAndSet(false, true)) {
                    stopOthers.run();
                  }
                  throw failure;
                }
              });
      Thread thread = factory.newThread(future);
      futures.add(future);
      threads.add(thread);
    }
    threads.forEach(Thread::start);

    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    Throwable first = null;
    List<Throwable> others = new ArrayList<>();
    for (FutureTask<?> future : futures) {
      try {
        future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        // A thread released by a broken gate, or interrupted, only reports another's failure.
        boolean secondary =
            cause instanceof CancellationException
                || cause instanceof InterruptedException
                || cause.getCause() instanceof InterruptedException;
        if (first == null && !secondary) {
          first = cause;
        } else {
          others.add(cause);
        }
      } catch (TimeoutException e) {
        threads.forEach(Thread::interrupt);
        others.add(e);
      }
    }
    for (Thread thread : threads) {
      if (!thread.join(TIMEOUT)) {
        others.add(new AssertionError("thread " + thread + " did not end"));
      }
    }
    if (first == null && !others.isEmpty()) {
      first = others.remove(0);
    }
    if (first != null) {
      AssertionError error =
          new AssertionError(
              String.format("seed %d: a thread failed (of %d): %s", SEED, threads.size(), first),
              first);
      others.forEach(error::addSuppressed);
      throw error;
    }
  }

  /**
   * A reusable barrier whose every wait is bounded and which a failing thread can break for good (a
   * {@code CyclicBarrier} that is reset lets threads arriving later wait again).
   */
  private static final class Gate {
    private final Phaser phaser;

    Gate(int parties) {
      this(parties, () -> {});
    }

    /** {@code action} runs in the last thread to arrive, before any thread passes. */
    Gate(int parties, Runnable action) {
      this.phaser =
          new Phaser(parties) {
            @Override
            protected boolean onAdvance(int phase, int registeredParties) {
              action.run();
              return false;
            }
          };
    }

    void pass() throws InterruptedException, TimeoutException {
      int phase = phaser.arrive();
      if (phase < 0
          || phaser.awaitAdvanceInterruptibly(phase, TIMEOUT.toNanos(), TimeUnit.NANOSECONDS) < 0) {
        throw new CancellationException("another thread failed");
      }
    }

    void breakForGood() {
      phaser.forceTermination();
    }
  }

  /**
   * Counts this thread in and spins until {@code counter} reaches {@code target}: a start that
   * lines threads up more closely than waking from a barrier. Yields while spinning, so that
   * oversubscribed platform threads and virtual threads on few carriers still get there.
   */
  private static void spinUntil(AtomicInteger counter, int target) throws TimeoutException {
    counter.incrementAndGet();
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    for (int spins = 1; counter.get() < target; spins++) {
      if ((spins & 127) == 0) {
        if (System.nanoTime() > deadline || Thread.currentThread().isInterrupted()) {
          throw new TimeoutException("seed " + SEED + ": the other threads did not come");
        }
        Thread.yield();
      } else {
        Thread.onSpinWait();
      }
    }
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      assertThat(latch.await(TIMEOUT.toNanos(), TimeUnit.NANOSECONDS))
          .as("seed %d: every thread tried in time", SEED)
          .isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("seed " + SEED + ": interrupted", e);
    }
  }

  private static <E> void put(SynchronousQueue<E> queue, E element) throws InterruptedException {
    assertThat(queue.offer(element, TIMEOUT.toNanos(), TimeUnit.NANOSECONDS))
        .as("seed %d: the other thread took the handoff in time", SEED)
        .isTrue();
  }

  private static <E> E take(SynchronousQueue<E> queue) throws InterruptedException {
    E element = queue.poll(TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
    assertThat(element).as("seed %d: the other thread handed over in time", SEED).isNotNull();
    return element;
  }

  private static void get(Future<?> future) throws Exception {
    future.get(TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
  }

  private static void shutdown(ExecutorService executor) throws InterruptedException {
    executor.shutdownNow();
    assertThat(executor.awaitTermination(TIMEOUT.toNanos(), TimeUnit.NANOSECONDS))
        .as("seed %d: the executor ended", SEED)
        .isTrue();
  }

  private static <V> void expectValues(
      List<ContextVar<V>> vars, Map<ContextVar<V>, ?> expected, String what, int round) {
    for (ContextVar<V> var : vars) {
      Object got = var.getOrDefault(null);
      boolean bound = var.isBound();
      if (bound != expected.containsKey(var) || got != expected.get(var)) {
        assertThat(bound ? got : UNBOUND)
            .as(what + ": %s", SEED, round, var)
            .isSameAs(expected.containsKey(var) ? expected.get(var) : UNBOUND);
      }
    }
  }
}
