package org.contextvars4j.agent;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.contextvars4j.agent.Support.COUNTER;
import static org.contextvars4j.agent.Support.NAME;
import static org.contextvars4j.agent.Support.THREAD_KINDS;
import static org.contextvars4j.agent.Support.TIMEOUT_SECONDS;
import static org.contextvars4j.agent.Support.await;
import static org.contextvars4j.agent.Support.awaitUnchecked;
import static org.contextvars4j.agent.Support.currentMapping;
import static org.contextvars4j.agent.Support.inNewContext;
import static org.contextvars4j.agent.Support.join;
import static org.contextvars4j.agent.Support.meet;
import static org.contextvars4j.agent.Support.name;
import static org.contextvars4j.agent.Support.observed;
import static org.contextvars4j.agent.Support.terminate;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RecursiveTask;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The agent on the JDK's own executors, used as they are: every way of handing a task to every
 * kind of executor runs the task in a copy of the submitter's context as it was at submission, and
 * nothing the task sets reaches the submitter, a sibling, the next task on the same pooled thread,
 * or the pooled thread's own context. Port of the core's {@code ContextExecutorsTest}, where {@code
 * ContextExecutors.wrap(pool)} is now the pool itself.
 *
 * <p>One {@code @Nested} class per executor kind; the shared cases are in {@link Contract} and
 * {@link PooledContract}, parameterised by thread kind (platform, virtual; a {@code ForkJoinPool}
 * makes its own platform workers) and by {@link Way} of handing a task over. Pools of one thread
 * make consecutive tasks share a thread, so that a leak from one task into the next cannot hide.
 */
final class ExecutorsIT {

  @AfterEach
  void testThreadLeftInAnEmptyContext() {
    assertThat(Context.copyCurrent().size())
        .as("the test left no value in the test thread's context")
        .isZero();
  }

  /** A task's result, available once the task has run. */
  @FunctionalInterface
  interface Pending {
    String await() throws Exception;
  }

  /** One way of handing a task to an executor; {@code blocking} ways return only when it ran. */
  enum Way {
    EXECUTE(false) {
      @Override
      Pending start(ExecutorService executor, Callable<String> body) {
        CompletableFuture<String> result = new CompletableFuture<>();
        executor.execute(() -> completeWith(result, body));
        return () -> join(result);
      }
    },
    SUBMIT_RUNNABLE(false) {
      @Override
      Pending start(ExecutorService executor, Callable<String> body) {
        AtomicReference<String> out = new AtomicReference<>();
        Future<?> future = executor.submit(() -> out.set(callUnchecked(body)));
        return () -> {
          assertThat(join(future)).as("the result of submit(Runnable)").isNull();
          return out.get();
        };
      }
    },
    SUBMIT_RUNNABLE_WITH_RESULT(false) {
      @Override
      Pending start(ExecutorService executor, Callable<String> body) {
        AtomicReference<String> out = new AtomicReference<>();
        Future<String> future = executor.submit(() -> out.set(callUnchecked(body)), "given result");
        return () -> {
          assertThat(join(future)).isEqualTo("given result");
          return out.get();
        };
      }
    },
    SUBMIT_CALLABLE(false) {
      @Override
      Pending start(ExecutorService executor, Callable<String> body) {
        Future<String> future = executor.submit(body);
        return () -> join(future);
      }
    },
    INVOKE_ALL(true) {
      @Override
      List<Pending> startAll(ExecutorService executor, List<Callable<String>> bodies)
          throws Exception {
        return pendings(executor.invokeAll(bodies));
      }
    },
    INVOKE_ALL_TIMED(true) {
      @Override
      List<Pending> startAll(ExecutorService executor, List<Callable<String>> bodies)
          throws Exception {
        return pendings(executor.invokeAll(bodies, TIMEOUT_SECONDS, SECONDS));
      }
    },
    INVOKE_ANY(true) {
      @Override
      List<Pending> startAll(ExecutorService executor, List<Callable<String>> bodies)
          throws Exception {
        String result = executor.invokeAny(bodies);
        return List.of(() -> result);
      }
    },
    INVOKE_ANY_TIMED(true) {
      @Override
      List<Pending> startAll(ExecutorService executor, List<Callable<String>> bodies)
          throws Exception {
        String result = executor.invokeAny(bodies, TIMEOUT_SECONDS, SECONDS);
        return List.of(() -> result);
      }
    },
    SCHEDULE_RUNNABLE(false) {
      @Override
      Pending start(ExecutorService executor, Callable<String> body) {
        AtomicReference<String> out = new AtomicReference<>();
        ScheduledFuture<?> future =
            ((ScheduledExecutorService) executor)
                .schedule(() -> out.set(callUnchecked(body)), 1, MILLISECONDS);
        return () -> {
          join(future);
          return out.get();
        };
      }
    },
    SCHEDULE_CALLABLE(false) {
      @Override
      Pending start(ExecutorService executor, Callable<String> body) {
        ScheduledFuture<String> future =
            ((ScheduledExecutorService) executor).schedule(body, 1, MILLISECONDS);
        return () -> join(future);
      }
    };

    static final List<Way> OF_EXECUTOR_SERVICE =
        List.of(
            EXECUTE,
            SUBMIT_RUNNABLE,
            SUBMIT_RUNNABLE_WITH_RESULT,
            SUBMIT_CALLABLE,
            INVOKE_ALL,
            INVOKE_ALL_TIMED,
            INVOKE_ANY,
            INVOKE_ANY_TIMED);

    /** Whether the call returns only after the task ran: the submitter cannot act meanwhile. */
    final boolean blocking;

    Way(boolean blocking) {
      this.blocking = blocking;
    }

    /** Hands {@code body} over as one task. */
    Pending start(ExecutorService executor, Callable<String> body) throws Exception {
      return startAll(executor, List.of(body)).get(0);
    }

    /** Hands {@code bodies} over, as one call where the way takes many tasks. */
    List<Pending> startAll(ExecutorService executor, List<Callable<String>> bodies)
        throws Exception {
      List<Pending> pendings = new ArrayList<>();
      for (Callable<String> body : bodies) {
        pendings.add(start(executor, body));
      }
      return pendings;
    }

    private static List<Pending> pendings(List<Future<String>> futures) {
      List<Pending> pendings = new ArrayList<>();
      for (Future<String> future : futures) {
        pendings.add(() -> join(future));
      }
      return pendings;
    }

    private static void completeWith(CompletableFuture<String> result, Callable<String> body) {
      try {
        result.complete(body.call());
      } catch (Throwable failure) {
        result.completeExceptionally(failure);
      }
    }

    private static String callUnchecked(Callable<String> body) {
      try {
        return body.call();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** What reports the own contexts of a pool's threads: their mappings at start and at end. */
  interface OwnReports {
    List<Map<ContextVar<?>, Object>> atStart();

    List<Map<ContextVar<?>, Object>> atEnd() throws InterruptedException;

    Map<ContextVar<?>, Object> expectedAtEnd();

    static OwnReports of(Support.OwnContexts own) {
      return new OwnReports() {
        @Override
        public List<Map<ContextVar<?>, Object>> atStart() {
          return own.atStart();
        }

        @Override
        public List<Map<ContextVar<?>, Object>> atEnd() throws InterruptedException {
          return own.atEnd();
        }

        @Override
        public Map<ContextVar<?>, Object> expectedAtEnd() {
          return own.expectedAtEnd();
        }
      };
    }

    static OwnReports of(Support.OwnForkJoinContexts own) {
      return new OwnReports() {
        @Override
        public List<Map<ContextVar<?>, Object>> atStart() {
          return own.atStart();
        }

        @Override
        public List<Map<ContextVar<?>, Object>> atEnd() throws InterruptedException {
          return own.atEnd();
        }

        @Override
        public Map<ContextVar<?>, Object> expectedAtEnd() {
          return own.expectedAtEnd();
        }
      };
    }
  }

  /**
   * An executor under test and, for pools, the reports of its threads' own contexts; closing it
   * terminates the executor.
   */
  record Pool(ExecutorService executor, @Nullable OwnReports own) implements AutoCloseable {
    @Override
    public void close() throws InterruptedException {
      terminate(executor);
    }
  }

  /* ---- what every kind of executor guarantees ---- */

  /** The cases every executor passes under the agent, whatever its threads. */
  abstract static class Contract {

    /**
     * {@return a new executor of {@code threads} threads made by {@code factory}; for a pool, its
     * threads set {@code ownValue} in their own context first, unless it is null}
     */
    abstract Pool open(int threads, ThreadFactory factory, @Nullable String ownValue);

    /** {@return the (thread kind, way) pairs this kind of executor is tested with} */
    abstract Stream<Arguments> cases();

    /** Checks, where the kind allows, that every pool thread started and ended empty. */
    void assertThreadsLeftAsTheyWere(Pool pool) throws Exception {}

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void task_seesTheSubmittersValuesAsOfSubmission(ThreadFactory factory, Way way)
        throws Exception {
      try (Pool pool = open(1, factory, null)) {
        inNewContext(
            () -> {
              NAME.set("at submission");
              CountDownLatch submitterSetAgain = new CountDownLatch(1);
              Pending pending =
                  way.start(
                      pool.executor(),
                      () -> {
                        if (!way.blocking) {
                          await(submitterSetAgain);
                        }
                        return name();
                      });
              NAME.set("after submission");
              submitterSetAgain.countDown();

              assertThat(pending.await())
                  .as("the task sees the value at submission, not the later one")
                  .isEqualTo("at submission");
            });
      }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void task_setsStayInTheTask_notSeenBySubmitterNorByTheNextTaskOnTheSameThread(
        ThreadFactory factory, Way way) throws Exception {
      Pool pool = open(1, factory, null);
      try (pool) {
        inNewContext(
            () -> {
              NAME.set("outer");
              Pending first =
                  way.start(
                      pool.executor(),
                      () -> {
                        String seen = observed();
                        NAME.set("set by task 1");
                        COUNTER.set(1);
                        return seen + " | after sets: " + observed();
                      });
              assertThat(first.await())
                  .isEqualTo("outer,no counter | after sets: set by task 1,counter=1");

              Pending second = way.start(pool.executor(), Support::observed);
              assertThat(second.await())
                  .as("the next task (on the same thread) starts from the submitter's values")
                  .isEqualTo("outer,no counter");

              assertThat(observed()).as("the submitter's context").isEqualTo("outer,no counter");
              assertThat(currentMapping()).containsOnlyKeys(NAME);
            });
        // From another, empty, context: the pool thread must not hand the first task's sets on.
        Pending fromEmpty = way.start(pool.executor(), Support::observed);
        assertThat(fromEmpty.await())
            .as("a task submitted from an empty context sees nothing of the earlier tasks")
            .isEqualTo("<unbound>,no counter");
      }
      assertThreadsLeftAsTheyWere(pool);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void siblings_runningAtTheSameTime_eachRunInItsOwnCopy(ThreadFactory factory, Way way)
        throws Exception {
      Pool pool = open(2, factory, null);
      try (pool) {
        inNewContext(
            () -> {
              NAME.set("outer");
              CountDownLatch bothRunning = new CountDownLatch(2);
              List<Callable<String>> siblings = new ArrayList<>();
              for (String own : List.of("sibling A", "sibling B")) {
                siblings.add(
                    () -> {
                      String seen = name();
                      NAME.set(own);
                      meet(bothRunning);
                      // Both have set by now: each must still see its own value.
                      return seen + " -> " + own + " = " + name();
                    });
              }
              List<Pending> pendings = way.startAll(pool.executor(), siblings);

              assertThat(pendings).isNotEmpty();
              for (Pending pending : pendings) {
                assertThat(pending.await())
                    .as("each sibling started from the submitter's values and kept its own")
                    .matches("outer -> (sibling .) = \\1");
              }
              assertThat(name()).isEqualTo("outer");
            });
      }
      assertThreadsLeftAsTheyWere(pool);
    }
  }

  /** The cases of executors whose threads outlive their tasks. */
  abstract static class PooledContract extends Contract {

    @Override
    void assertThreadsLeftAsTheyWere(Pool pool) throws Exception {
      OwnReports own = pool.own();
      assertThat(own.atStart())
          .as("every pool thread started in an empty context, though a submitter started it")
          .isNotEmpty()
          .allSatisfy(mapping -> assertThat(mapping).isEmpty());
      assertThat(own.atEnd())
          .as("every pool thread's own context, as the thread ended")
          .allSatisfy(mapping -> assertThat(mapping).isEqualTo(own.expectedAtEnd()));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void poolThreadsOwnValues_notSeenByTasks_andExactlyAsBeforeAfterThem(
        ThreadFactory factory, Way way) throws Exception {
      Pool pool = open(1, factory, "pool thread's own");
      try (pool) {
        inNewContext(
            () -> {
              NAME.set("outer");
              Pending pending =
                  way.start(
                      pool.executor(),
                      () -> {
                        String seen = observed();
                        NAME.set("set by task");
                        COUNTER.set(7);
                        return seen;
                      });
              assertThat(pending.await())
                  .as("the task sees the submitter's values, not the pool thread's")
                  .isEqualTo("outer,no counter");
            });
        assertThat(way.start(pool.executor(), Support::observed).await())
            .as("a task from an empty context sees neither the pool thread's value nor a task's")
            .isEqualTo("<unbound>,no counter");
      }
      assertThat(pool.own().atEnd())
          .as("the pool thread's own context, after the tasks")
          .isNotEmpty()
          .allSatisfy(mapping -> assertThat(mapping).isEqualTo(Map.of(NAME, "pool thread's own")));
    }
  }

  static Stream<Arguments> casesOf(Stream<? extends Object> kinds, List<Way> ways) {
    return kinds.flatMap(kind -> ways.stream().map(way -> Arguments.of(kind, way)));
  }

  static Stream<? extends Object> platformOnly() {
    return Support.threadKinds().filter(kind -> kind.getName().equals("platform"));
  }

  /* ---- Executors.newFixedThreadPool: a plain ThreadPoolExecutor ---- */

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class FixedThreadPool extends PooledContract {

    @Override
    Pool open(int threads, ThreadFactory factory, @Nullable String ownValue) {
      Support.OwnContexts own = new Support.OwnContexts(factory, ownValue);
      return new Pool(Executors.newFixedThreadPool(threads, own), OwnReports.of(own));
    }

    @Override
    Stream<Arguments> cases() {
      return casesOf(Support.threadKinds(), Way.OF_EXECUTOR_SERVICE);
    }
  }

  /* ---- Executors.newCachedThreadPool ---- */

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class CachedThreadPool extends PooledContract {

    @Override
    Pool open(int threads, ThreadFactory factory, @Nullable String ownValue) {
      Support.OwnContexts own = new Support.OwnContexts(factory, ownValue);
      return new Pool(Executors.newCachedThreadPool(own), OwnReports.of(own));
    }

    @Override
    Stream<Arguments> cases() {
      return casesOf(Support.threadKinds(), List.of(Way.EXECUTE, Way.SUBMIT_CALLABLE, Way.INVOKE_ALL));
    }
  }

  /* ---- a user's subclass of ThreadPoolExecutor ---- */

  /** A user's pool that counts its executes and forwards them to {@code ThreadPoolExecutor}. */
  static final class CountingPool extends Support.ProbedPool {
    final AtomicInteger executes = new AtomicInteger();

    CountingPool(int threads, ThreadFactory factory) {
      super(threads, factory);
    }

    @Override
    public void execute(Runnable command) {
      executes.incrementAndGet();
      super.execute(command);
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class UserSubclassOfThreadPoolExecutor extends PooledContract {

    @Override
    Pool open(int threads, ThreadFactory factory, @Nullable String ownValue) {
      Support.OwnContexts own = new Support.OwnContexts(factory, ownValue);
      return new Pool(new CountingPool(threads, own), OwnReports.of(own));
    }

    @Override
    Stream<Arguments> cases() {
      return casesOf(Support.threadKinds(), Way.OF_EXECUTOR_SERVICE);
    }

    @ParameterizedTest
    @MethodSource(THREAD_KINDS)
    void hooks_runInThePoolThreadsOwnContext_theTaskBetweenThemInTheSubmitters(
        ThreadFactory factory) throws Exception {
      Support.OwnContexts own = new Support.OwnContexts(factory, "pool thread's own");
      CountingPool pool = new CountingPool(1, own);
      try {
        inNewContext(
            () -> {
              NAME.set("submitter's");
              String seen =
                  join(
                      pool.submit(
                          () -> {
                            String s = observed();
                            NAME.set("set by the task");
                            COUNTER.set(1);
                            return s;
                          }));

              assertThat(seen).isEqualTo("submitter's,no counter");
            });
        Support.Around around = pool.nextAround();
        assertThat(around.before())
            .as("beforeExecute: the pool thread's own context")
            .isEqualTo(Map.of(NAME, "pool thread's own"));
        assertThat(around.after())
            .as("afterExecute: the pool thread's own context, untouched by the task")
            .isEqualTo(Map.of(NAME, "pool thread's own"));
        assertThat(pool.executes).as("the user's execute override ran once").hasValue(1);
      } finally {
        terminate(pool);
      }
    }
  }

  /* ---- ScheduledThreadPoolExecutor ---- */

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class ScheduledThreadPool extends PooledContract {

    @Override
    Pool open(int threads, ThreadFactory factory, @Nullable String ownValue) {
      Support.OwnContexts own = new Support.OwnContexts(factory, ownValue);
      return new Pool(new ScheduledThreadPoolExecutor(threads, own), OwnReports.of(own));
    }

    @Override
    Stream<Arguments> cases() {
      List<Way> ways = new ArrayList<>(Way.OF_EXECUTOR_SERVICE);
      ways.add(Way.SCHEDULE_RUNNABLE);
      ways.add(Way.SCHEDULE_CALLABLE);
      return casesOf(Support.threadKinds(), ways);
    }

    /** How a periodic task is scheduled. */
    @FunctionalInterface
    interface Periodic {
      ScheduledFuture<?> schedule(ScheduledExecutorService executor, Runnable task);
    }

    @ParameterizedTest
    @MethodSource(THREAD_KINDS)
    void scheduleAtFixedRate_everyRunStartsFromAFreshCopyOfTheContextAtScheduling(
        ThreadFactory factory) throws Exception {
      periodicRuns(factory, (ex, task) -> ex.scheduleAtFixedRate(task, 0, 1, MILLISECONDS));
    }

    @ParameterizedTest
    @MethodSource(THREAD_KINDS)
    void scheduleWithFixedDelay_everyRunStartsFromAFreshCopyOfTheContextAtScheduling(
        ThreadFactory factory) throws Exception {
      periodicRuns(factory, (ex, task) -> ex.scheduleWithFixedDelay(task, 0, 1, MILLISECONDS));
    }

    private void periodicRuns(ThreadFactory factory, Periodic periodic) throws Exception {
      Pool pool = open(1, factory, null);
      int runs = 4;
      List<String> seen = Collections.synchronizedList(new ArrayList<>());
      try (pool) {
        ScheduledExecutorService scheduler = (ScheduledExecutorService) pool.executor();
        inNewContext(
            () -> {
              NAME.set("at scheduling");
              CountDownLatch submitterSetAgain = new CountDownLatch(1);
              CountDownLatch enoughRuns = new CountDownLatch(runs);
              AtomicInteger run = new AtomicInteger();
              ScheduledFuture<?> future =
                  periodic.schedule(
                      scheduler,
                      () -> {
                        int n = run.incrementAndGet();
                        if (n == 1) {
                          awaitUnchecked(submitterSetAgain);
                        }
                        seen.add(observed());
                        NAME.set("set by run " + n);
                        COUNTER.set(n);
                        enoughRuns.countDown();
                      });
              NAME.set("after scheduling");
              submitterSetAgain.countDown();
              await(enoughRuns);
              future.cancel(false);

              assertThat(name()).isEqualTo("after scheduling");
            });
      }
      assertThat(List.copyOf(seen))
          .as("every run saw the values at scheduling and no earlier run's sets")
          .hasSizeGreaterThanOrEqualTo(runs)
          .allSatisfy(observed -> assertThat(observed).isEqualTo("at scheduling,no counter"));
      assertThreadsLeftAsTheyWere(pool);
    }
  }

  /* ---- ForkJoinPool ---- */

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class ForkJoinPoolExecutor extends PooledContract {

    @Override
    Pool open(int threads, ThreadFactory ignored, @Nullable String ownValue) {
      Support.OwnForkJoinContexts own = new Support.OwnForkJoinContexts(ownValue);
      return new Pool(new ForkJoinPool(threads, own, null, false), OwnReports.of(own));
    }

    @Override
    Stream<Arguments> cases() {
      // A ForkJoinPool makes its own (platform) workers.
      return casesOf(platformOnly(), Way.OF_EXECUTOR_SERVICE);
    }

    /** Forks a binary tree of subtasks; each checks it sees its parent's value, then sets its own. */
    static final class Tree extends RecursiveTask<List<String>> {
      private final String parent;
      private final int depth;

      Tree(String parent, int depth) {
        this.parent = parent;
        this.depth = depth;
      }

      @Override
      protected List<String> compute() {
        List<String> wrong = new ArrayList<>();
        if (!parent.equals(name())) {
          wrong.add("expected " + parent + ", saw " + name());
        }
        String own = parent + "/" + depth;
        NAME.set(own);
        if (depth > 0) {
          Tree left = new Tree(own, depth - 1);
          Tree right = new Tree(own, depth - 1);
          left.fork();
          right.fork();
          NAME.set(own + " after forking"); // the forked subtasks must not see it
          wrong.addAll(right.join());
          wrong.addAll(left.join());
        }
        return wrong;
      }
    }

    @Test
    void forkedSubtasks_runInACopyOfTheForkersContext_whoeverRunsThem() throws Exception {
      ForkJoinPool pool = new ForkJoinPool(4);
      try {
        inNewContext(
            () -> {
              NAME.set("root");
              List<String> wrong = pool.invoke(new Tree("root", 8));

              assertThat(wrong).as("every subtask saw its forker's value").isEmpty();
              assertThat(name()).isEqualTo("root");
            });
      } finally {
        terminate(pool);
      }
    }

    @Test
    void parallelStream_lambdasSeeTheCallersContext_onTheCommonPoolAndInAPoolOfTheirOwn()
        throws Exception {
      ForkJoinPool pool = new ForkJoinPool(4);
      try {
        inNewContext(
            () -> {
              NAME.set("caller's");
              Callable<List<String>> stream =
                  () ->
                      IntStream.range(0, 20_000)
                          .parallel()
                          .mapToObj(i -> name())
                          .distinct()
                          .toList();

              // On the common pool, the caller's thread takes part (its elements run inline).
              assertThat(stream.call())
                  .as("every element, whichever thread ran it, saw the caller's value")
                  .containsExactly("caller's");
              // Submitted to a pool, the stream runs on the pool's workers only.
              assertThat(join(pool.submit(stream)))
                  .as("every element, on the pool's workers, saw the caller's value")
                  .containsExactly("caller's");
            });
      } finally {
        terminate(pool);
      }
    }
  }

  /* ---- Executors.newVirtualThreadPerTaskExecutor, Executors.newThreadPerTaskExecutor ---- */

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class NewVirtualThreadPerTaskExecutor extends Contract {

    @Override
    Pool open(int threads, ThreadFactory ignored, @Nullable String ownValue) {
      return new Pool(Executors.newVirtualThreadPerTaskExecutor(), null);
    }

    @Override
    Stream<Arguments> cases() {
      return casesOf(
          Support.threadKinds().filter(kind -> kind.getName().equals("virtual")),
          Way.OF_EXECUTOR_SERVICE);
    }

    @Test
    void submit_runsEachTaskOnANewVirtualThread_inACopy() throws Exception {
      try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
        inNewContext(
            () -> {
              NAME.set("outer");
              Callable<Thread> task =
                  () -> {
                    assertThat(observed()).isEqualTo("outer,no counter");
                    COUNTER.set(1);
                    return Thread.currentThread();
                  };
              Thread first = join(executor.submit(task));
              Thread second = join(executor.submit(task));

              assertThat(first.isVirtual()).isTrue();
              assertThat(second.isVirtual()).isTrue();
              assertThat(first).isNotSameAs(second).isNotSameAs(Thread.currentThread());
              assertThat(observed()).isEqualTo("outer,no counter");
            });
      }
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class NewThreadPerTaskExecutor extends Contract {

    @Override
    Pool open(int threads, ThreadFactory factory, @Nullable String ownValue) {
      return new Pool(Executors.newThreadPerTaskExecutor(factory), null);
    }

    @Override
    Stream<Arguments> cases() {
      return casesOf(Support.threadKinds(), Way.OF_EXECUTOR_SERVICE);
    }
  }

  /* ---- single-thread executors: every task on the one thread, from many contexts ---- */

  static Stream<Arguments> singleThreadExecutors() {
    return Support.threadKinds()
        .flatMap(
            kind ->
                Stream.of(
                    Arguments.of(
                        kind,
                        Named.of(
                            "Executors.newSingleThreadExecutor",
                            (Function<ThreadFactory, ExecutorService>)
                                Executors::newSingleThreadExecutor)),
                    Arguments.of(
                        kind,
                        Named.of(
                            "Executors.newSingleThreadScheduledExecutor",
                            (Function<ThreadFactory, ExecutorService>)
                                Executors::newSingleThreadScheduledExecutor))));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("singleThreadExecutors")
  void singleThreadExecutor_tasksFromManySubmitters_eachSeesOnlyItsOwn_noneLeaksToTheNext(
      ThreadFactory factory, Function<ThreadFactory, ExecutorService> make)
      throws Exception {
    Support.OwnContexts own = new Support.OwnContexts(factory);
    ExecutorService executor = make.apply(own);
    List<Future<Map<ContextVar<?>, Object>>> results = new ArrayList<>();
    Context[] submitters = new Context[50];
    try {
      for (int i = 0; i < submitters.length; i++) {
        int n = i;
        submitters[i] = new Context();
        submitters[i].run(
            () -> {
              NAME.set("submitter " + n);
              if (n % 3 == 0) {
                COUNTER.set(n);
              }
              results.add(
                  executor.submit(
                      () -> {
                        Map<ContextVar<?>, Object> seen = currentMapping();
                        NAME.set("set by task " + n);
                        COUNTER.set(-n);
                        return seen;
                      }));
            });
      }
      for (int i = 0; i < submitters.length; i++) {
        Map<ContextVar<?>, Object> expected =
            i % 3 == 0 ? Map.of(NAME, "submitter " + i, COUNTER, i) : Map.of(NAME, "submitter " + i);
        assertThat(join(results.get(i)))
            .as("task %d saw its submitter's values only, none of the earlier tasks' sets", i)
            .isEqualTo(expected);
        assertThat(submitters[i].asMap())
            .as("submitter %d's context is as it left it", i)
            .isEqualTo(expected);
      }
    } finally {
      terminate(executor);
    }
    assertThat(own.made()).as("one thread ran them all").isEqualTo(1);
    assertThat(own.atStart()).singleElement().satisfies(m -> assertThat(m).isEmpty());
    assertThat(own.atEnd()).singleElement().satisfies(m -> assertThat(m).isEmpty());
  }

  /* ---- what the JDK hands back stays what the caller handed over ---- */

  @Test
  void shutdownNow_returnsTheCallersOwnRunnables() throws Exception {
    ThreadPoolExecutor pool = (ThreadPoolExecutor) Executors.newFixedThreadPool(1);
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    AtomicReference<String> seenByTheRunningTask = new AtomicReference<>();
    inNewContext(
        () -> {
          NAME.set("submitter's");
          pool.execute(
              () -> {
                seenByTheRunningTask.set(name());
                started.countDown();
                try {
                  new CountDownLatch(1).await(TIMEOUT_SECONDS, SECONDS);
                } catch (InterruptedException e) {
                  interrupted.countDown();
                }
              });
        });
    await(started);
    Runnable first = () -> {};
    Runnable second = () -> {};
    pool.execute(first);
    pool.execute(second);

    List<Runnable> pending = pool.shutdownNow();

    assertThat(seenByTheRunningTask.get()).isEqualTo("submitter's");
    assertThat(pending)
        .as("the queued tasks, as the caller handed them over")
        .containsExactly(first, second);
    await(interrupted);
    assertThat(pool.awaitTermination(TIMEOUT_SECONDS, SECONDS)).isTrue();
  }

  @Test
  void afterExecute_isGivenTheFutureTaskThatSubmitReturned() throws Exception {
    LinkedBlockingQueue<Runnable> givenToAfterExecute = new LinkedBlockingQueue<>();
    LinkedBlockingQueue<Throwable> reported = new LinkedBlockingQueue<>();
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(1, 1, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>()) {
          @Override
          protected void afterExecute(Runnable r, Throwable t) {
            givenToAfterExecute.add(r);
            // ThreadPoolExecutor's javadoc: how a subclass sees the failure of a submitted task.
            if (t == null && r instanceof Future<?> future && future.isDone()) {
              try {
                future.get();
              } catch (Exception e) {
                t = e.getCause();
              }
            }
            if (t != null) {
              reported.add(t);
            }
          }
        };
    try {
      AtomicReference<Future<?>> submitted = new AtomicReference<>();
      IllegalStateException boom = new IllegalStateException("boom");
      inNewContext(
          () -> {
            NAME.set("submitter's");
            submitted.set(
                pool.submit(
                    () -> {
                      assertThat(name()).isEqualTo("submitter's");
                      throw boom;
                    }));
          });

      assertThat(Support.take(givenToAfterExecute)).isSameAs(submitted.get());
      assertThat(Support.take(reported)).isSameAs(boom);
    } finally {
      terminate(pool);
    }
  }

  /**
   * A task that is both a {@code Runnable} and a {@code Callable}, as Reactor's scheduler tasks
   * are: handed to a method that takes a {@code Callable}, it comes back bound as one.
   */
  static final class RunnableAndCallable implements Runnable, Callable<String> {
    @Override
    public void run() {
      throw new AssertionError("the pool was handed a Callable, and must call it");
    }

    @Override
    public String call() {
      return name();
    }
  }

  /** Every method that takes a {@code Callable} first, on an executor that takes one. */
  static Stream<Arguments> callableTakers() {
    return Stream.of(
        Arguments.of(
            Named.of(
                "ScheduledThreadPoolExecutor.submit(Callable)",
                (Function<ScheduledExecutorService, Future<String>>)
                    pool -> pool.submit((Callable<String>) new RunnableAndCallable()))),
        Arguments.of(
            Named.of(
                "ScheduledThreadPoolExecutor.schedule(Callable, delay)",
                (Function<ScheduledExecutorService, Future<String>>)
                    pool -> pool.schedule((Callable<String>) new RunnableAndCallable(), 1, MILLISECONDS))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("callableTakers")
  void aTaskThatIsBothRunnableAndCallable_isCalledInTheSubmittersContext(
      Function<ScheduledExecutorService, Future<String>> submit) throws Exception {
    ScheduledExecutorService pool = Executors.newScheduledThreadPool(1);
    try {
      AtomicReference<Future<String>> result = new AtomicReference<>();
      inNewContext(
          () -> {
            NAME.set("submitter's");
            result.set(submit.apply(pool));
          });
      assertThat(result.get().get(TIMEOUT_SECONDS, SECONDS)).isEqualTo("submitter's");
    } finally {
      terminate(pool);
    }
  }

  @Test
  void aTaskThatIsBothRunnableAndCallable_onEveryOtherExecutorThatTakesACallable()
      throws Exception {
    ForkJoinPool forkJoin = new ForkJoinPool(1);
    ExecutorService perTask = Executors.newVirtualThreadPerTaskExecutor();
    try {
      List<Future<String>> results = new ArrayList<>();
      inNewContext(
          () -> {
            NAME.set("submitter's");
            results.add(perTask.submit((Callable<String>) new RunnableAndCallable()));
            results.add(forkJoin.submit((Callable<String>) new RunnableAndCallable()));
            // A ScheduledExecutorService since JDK 25; the tests compile for 21.
            if ((Object) forkJoin instanceof ScheduledExecutorService scheduling) {
              results.add(scheduling.schedule((Callable<String>) new RunnableAndCallable(), 1, MILLISECONDS));
            }
          });
      for (Future<String> result : results) {
        assertThat(result.get(TIMEOUT_SECONDS, SECONDS)).isEqualTo("submitter's");
      }
    } finally {
      terminate(perTask);
      terminate(forkJoin);
    }
  }
}
