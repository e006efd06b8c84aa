package org.contextvars4j.concurrent;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.contextvars4j.concurrent.ExecTestSupport.THREAD_KINDS;
import static org.contextvars4j.concurrent.ExecTestSupport.TIMEOUT_SECONDS;
import static org.contextvars4j.concurrent.ExecTestSupport.await;
import static org.contextvars4j.concurrent.ExecTestSupport.currentMapping;
import static org.contextvars4j.concurrent.ExecTestSupport.join;
import static org.contextvars4j.concurrent.ExecTestSupport.meet;
import static org.contextvars4j.concurrent.ExecTestSupport.onPoolThread;
import static org.contextvars4j.concurrent.ExecTestSupport.ownMappingsOfAllThreads;
import static org.contextvars4j.concurrent.ExecTestSupport.terminate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.RunnableScheduledFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Tests of {@link ContextExecutors}: every way of handing a task to every kind of wrapped executor
 * runs the task in a copy of the submitter's context as it was at submission, and nothing the task
 * sets reaches the submitter, a sibling, the next task on the same pooled thread, or the pooled
 * thread's own context.
 *
 * <p>One {@code @Nested} class per executor kind; the cases every kind shares are in {@link
 * Contract} and {@link PooledContract}, parameterised by thread kind (platform, virtual; a
 * {@code ForkJoinPool} has platform workers only) and by {@link Way} of handing a task over. Pools
 * of one thread make consecutive tasks share a thread, so that a leak from one task into the next
 * could not hide.
 */
final class ContextExecutorsTest {

  static final ContextVar<String> NAME = ContextVar.named("name");
  static final ContextVar<Integer> COUNTER = ContextVar.named("counter");

  @AfterEach
  void testThreadLeftInAnEmptyContext() {
    assertThat(Context.copyCurrent().size())
        .as("the test left no value in the test thread's context")
        .isZero();
  }

  /** Runs {@code body} on this thread in a new, empty context: nothing it sets outlives it. */
  static void inNewContext(ThrowingBody body) throws Exception {
    new Context().call(() -> {
      body.run();
      return null;
    });
  }

  @FunctionalInterface
  interface ThrowingBody {
    void run() throws Exception;
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
      Pending start(Executor executor, Callable<String> body) {
        CompletableFuture<String> result = new CompletableFuture<>();
        executor.execute(() -> completeWith(result, body));
        return () -> join(result);
      }
    },
    SUBMIT_RUNNABLE(false) {
      @Override
      Pending start(Executor executor, Callable<String> body) {
        AtomicReference<String> out = new AtomicReference<>();
        Future<?> future = service(executor).submit(() -> out.set(callUnchecked(body)));
        return () -> {
          assertThat(join(future)).as("the result of submit(Runnable)").isNull();
          return out.get();
        };
      }
    },
    SUBMIT_RUNNABLE_WITH_RESULT(false) {
      @Override
      Pending start(Executor executor, Callable<String> body) {
        AtomicReference<String> out = new AtomicReference<>();
        Future<String> future =
            service(executor).submit(() -> out.set(callUnchecked(body)), "given result");
        return () -> {
          assertThat(join(future)).isEqualTo("given result");
          return out.get();
        };
      }
    },
    SUBMIT_CALLABLE(false) {
      @Override
      Pending start(Executor executor, Callable<String> body) {
        Future<String> future = service(executor).submit(body);
        return () -> join(future);
      }
    },
    INVOKE_ALL(true) {
      @Override
      List<Pending> startAll(Executor executor, List<Callable<String>> bodies) throws Exception {
        return pendings(service(executor).invokeAll(bodies));
      }
    },
    INVOKE_ALL_TIMED(true) {
      @Override
      List<Pending> startAll(Executor executor, List<Callable<String>> bodies) throws Exception {
        return pendings(service(executor).invokeAll(bodies, TIMEOUT_SECONDS, SECONDS));
      }
    },
    INVOKE_ANY(true) {
      @Override
      List<Pending> startAll(Executor executor, List<Callable<String>> bodies) throws Exception {
        String result = service(executor).invokeAny(bodies);
        return List.of(() -> result);
      }
    },
    INVOKE_ANY_TIMED(true) {
      @Override
      List<Pending> startAll(Executor executor, List<Callable<String>> bodies) throws Exception {
        String result = service(executor).invokeAny(bodies, TIMEOUT_SECONDS, SECONDS);
        return List.of(() -> result);
      }
    },
    SCHEDULE_RUNNABLE(false) {
      @Override
      Pending start(Executor executor, Callable<String> body) {
        AtomicReference<String> out = new AtomicReference<>();
        ScheduledFuture<?> future =
            scheduled(executor).schedule(() -> out.set(callUnchecked(body)), 1, MILLISECONDS);
        return () -> {
          join(future);
          return out.get();
        };
      }
    },
    SCHEDULE_CALLABLE(false) {
      @Override
      Pending start(Executor executor, Callable<String> body) {
        ScheduledFuture<String> future = scheduled(executor).schedule(body, 1, MILLISECONDS);
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
    Pending start(Executor executor, Callable<String> body) throws Exception {
      return startAll(executor, List.of(body)).get(0);
    }

    /** Hands {@code bodies} over, as one call where the way takes many tasks. */
    List<Pending> startAll(Executor executor, List<Callable<String>> bodies) throws Exception {
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

    private static ExecutorService service(Executor executor) {
      return (ExecutorService) executor;
    }

    private static ScheduledExecutorService scheduled(Executor executor) {
      return (ScheduledExecutorService) executor;
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

  /** A wrapped executor under test, with the delegate it wraps; closing it terminates both. */
  record Pool(ExecutorService delegate, Executor wrapped) implements AutoCloseable {
    @Override
    public void close() {
      ExecTestSupport.terminateUninterruptibly(delegate);
      if (wrapped instanceof ExecutorService service && service != delegate) {
        assertThat(service.isTerminated()).as("the wrapper reports its delegate's state").isTrue();
      }
    }
  }

  /** {@return the value of NAME here, or a marker} */
  static String name() {
    return NAME.getOrDefault("<unbound>");
  }

  /** {@return what a task reports about the two variables} */
  static String observed() {
    return name() + "," + (COUNTER.isBound() ? "counter=" + COUNTER.get() : "no counter");
  }

  /* ---- what every kind of executor guarantees ---- */

  /** The cases every wrapped executor passes, whatever its threads. */
  abstract static class Contract {

    /** {@return a new pool of {@code threads} threads made by {@code factory}, and its wrapper} */
    abstract Pool open(int threads, ThreadFactory factory);

    /** {@return the (thread kind, way) pairs this kind of executor is tested with} */
    abstract Stream<Arguments> cases();

    /** Checks, where the kind allows, that no pool thread was left in a changed context. */
    void assertThreadsLeftAsTheyWere(Pool pool, int threads) throws Exception {}

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void task_seesTheSubmittersValuesAsOfSubmission(ThreadFactory factory, Way way)
        throws Exception {
      try (Pool pool = open(1, factory)) {
        inNewContext(
            () -> {
              NAME.set("at submission");
              CountDownLatch submitterSetAgain = new CountDownLatch(1);
              Pending pending =
                  way.start(
                      pool.wrapped(),
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
      try (Pool pool = open(1, factory)) {
        inNewContext(
            () -> {
              NAME.set("outer");
              Pending first =
                  way.start(
                      pool.wrapped(),
                      () -> {
                        String seen = observed();
                        NAME.set("set by task 1");
                        COUNTER.set(1);
                        return seen + " | after sets: " + observed();
                      });
              assertThat(first.await())
                  .isEqualTo("outer,no counter | after sets: set by task 1,counter=1");

              Pending second = way.start(pool.wrapped(), ContextExecutorsTest::observed);
              assertThat(second.await())
                  .as("the next task (on the same thread) starts from the submitter's values")
                  .isEqualTo("outer,no counter");

              assertThat(observed()).as("the submitter's context").isEqualTo("outer,no counter");
              assertThat(currentMapping()).containsOnlyKeys(NAME);
            });
        assertThreadsLeftAsTheyWere(pool, 1);
      }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void siblings_runningAtTheSameTime_eachRunInItsOwnCopy(ThreadFactory factory, Way way)
        throws Exception {
      try (Pool pool = open(2, factory)) {
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
              List<Pending> pendings = way.startAll(pool.wrapped(), siblings);

              assertThat(pendings).isNotEmpty();
              for (Pending pending : pendings) {
                assertThat(pending.await())
                    .as("each sibling started from the submitter's values and kept its own")
                    .matches("outer -> (sibling .) = \\1");
              }
              assertThat(name()).isEqualTo("outer");
            });
        assertThreadsLeftAsTheyWere(pool, 2);
      }
    }
  }

  /** The cases of executors whose threads outlive their tasks. */
  abstract static class PooledContract extends Contract {

    @Override
    void assertThreadsLeftAsTheyWere(Pool pool, int threads) throws Exception {
      assertThat(ownMappingsOfAllThreads(pool.delegate(), threads))
          .as("every pool thread's own context is still empty")
          .hasSize(threads)
          .allSatisfy(mapping -> assertThat(mapping).isEmpty());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void poolThreadsOwnValues_notSeenByTasks_andExactlyAsBeforeAfterThem(
        ThreadFactory factory, Way way) throws Exception {
      try (Pool pool = open(1, factory)) {
        onPoolThread(pool.delegate(), () -> NAME.set("pool thread's own"));
        inNewContext(
            () -> {
              NAME.set("outer");
              Pending pending =
                  way.start(
                      pool.wrapped(),
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

        assertThat(onPoolThread(pool.delegate(), ExecTestSupport::currentMapping))
            .as("the pool thread's own context, after the task")
            .isEqualTo(Map.of(NAME, "pool thread's own"));
      }
    }
  }

  static Stream<Arguments> casesOf(Stream<Named<ThreadFactory>> kinds, List<Way> ways) {
    return kinds.flatMap(kind -> ways.stream().map(way -> Arguments.of(kind, way)));
  }

  static Stream<Named<ThreadFactory>> platformOnly() {
    return ExecTestSupport.threadKinds().filter(kind -> kind.getName().equals("platform"));
  }

  /* ---- wrap(Executor) ---- */

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WrappedExecutor extends PooledContract {

    @Override
    Pool open(int threads, ThreadFactory factory) {
      ExecutorService delegate = Executors.newFixedThreadPool(threads, factory);
      Executor wrapped = ContextExecutors.wrap((Executor) delegate);
      assertThat(wrapped).isInstanceOf(ContextExecutor.class);
      return new Pool(delegate, wrapped);
    }

    @Override
    Stream<Arguments> cases() {
      return casesOf(ExecTestSupport.threadKinds(), List.of(Way.EXECUTE));
    }

    @Test
    void execute_onACallerRunsExecutor_runsInACopyOnTheCallingThread() throws Exception {
      Executor direct = ContextExecutors.wrap((Executor) Runnable::run);
      inNewContext(
          () -> {
            NAME.set("outer");
            Thread caller = Thread.currentThread();
            AtomicReference<String> seen = new AtomicReference<>();
            direct.execute(
                () -> {
                  assertThat(Thread.currentThread()).isSameAs(caller);
                  seen.set(observed());
                  NAME.set("set by task");
                  COUNTER.set(1);
                });

            assertThat(seen.get()).isEqualTo("outer,no counter");
            assertThat(observed())
                .as("the task's sets stay in its copy, even on the caller's own thread")
                .isEqualTo("outer,no counter");
          });
    }

    @Test
    void wrap_ofAWrappedExecutor_returnsItUnchanged() {
      Executor wrapped = ContextExecutors.wrap((Executor) Runnable::run);

      assertThat(ContextExecutors.wrap(wrapped)).isSameAs(wrapped);
      ExecutorService service = ContextExecutors.wrap(new RecordingExecutorService());
      assertThat(ContextExecutors.wrap((Executor) service))
          .as("an executor service of ours is already an executor of ours")
          .isSameAs(service);
    }
  }

  /* ---- wrap(ExecutorService): a fixed thread pool ---- */

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WrappedFixedThreadPool extends PooledContract {

    @Override
    Pool open(int threads, ThreadFactory factory) {
      ExecutorService delegate = Executors.newFixedThreadPool(threads, factory);
      return new Pool(delegate, ContextExecutors.wrap(delegate));
    }

    @Override
    Stream<Arguments> cases() {
      return casesOf(ExecTestSupport.threadKinds(), Way.OF_EXECUTOR_SERVICE);
    }

    @ParameterizedTest
    @MethodSource(THREAD_KINDS)
    void shutdownNow_returnsTheCallersOwnRunnables(ThreadFactory factory) throws Exception {
      ThreadPoolExecutor delegate =
          (ThreadPoolExecutor) Executors.newFixedThreadPool(1, factory);
      ExecutorService wrapped = ContextExecutors.wrap(delegate);
      CountDownLatch started = new CountDownLatch(1);
      CountDownLatch interrupted = new CountDownLatch(1);
      wrapped.execute(
          () -> {
            started.countDown();
            try {
              new CountDownLatch(1).await(TIMEOUT_SECONDS, SECONDS);
            } catch (InterruptedException e) {
              interrupted.countDown();
            }
          });
      await(started);
      Runnable first = () -> {};
      Runnable second = () -> {};
      wrapped.execute(first);
      wrapped.execute(second);

      List<Runnable> pending = wrapped.shutdownNow();

      assertThat(pending)
          .as("the queued tasks, as the caller handed them over")
          .containsExactly(first, second);
      await(interrupted);
      assertThat(wrapped.awaitTermination(TIMEOUT_SECONDS, SECONDS)).isTrue();
    }

    @Test
    void lifeCycle_ofARealPool_followsTheDelegate() throws Exception {
      ExecutorService delegate = Executors.newFixedThreadPool(1);
      ExecutorService wrapped = ContextExecutors.wrap(delegate);
      assertThat(wrapped.isShutdown()).isFalse();
      assertThat(wrapped.isTerminated()).isFalse();
      CountDownLatch started = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      wrapped.execute(
          () -> {
            started.countDown();
            try {
              await(release);
            } catch (InterruptedException e) {
              throw new IllegalStateException(e);
            }
          });
      await(started);

      wrapped.shutdown();

      assertThat(delegate.isShutdown()).isTrue();
      assertThat(wrapped.isShutdown()).isTrue();
      assertThat(wrapped.isTerminated()).as("a task is still running").isFalse();
      assertThat(wrapped.awaitTermination(10, MILLISECONDS))
          .as("awaitTermination times out while a task runs")
          .isFalse();
      release.countDown();
      assertThat(wrapped.awaitTermination(TIMEOUT_SECONDS, SECONDS)).isTrue();
      assertThat(wrapped.isTerminated()).isTrue();
      assertThat(delegate.isTerminated()).isTrue();

      ExecutorService closingDelegate = Executors.newFixedThreadPool(1);
      ExecutorService closing = ContextExecutors.wrap(closingDelegate);
      AtomicInteger ran = new AtomicInteger();
      closing.execute(ran::incrementAndGet);
      closing.close();
      assertThat(closingDelegate.isTerminated()).as("close() closed the delegate").isTrue();
      assertThat(ran).as("close() waited for the task").hasValue(1);
    }

    @Test
    void lifeCycleMethods_goToTheDelegate_withTheirArgumentsAndResults() throws Exception {
      RecordingExecutorService delegate = new RecordingExecutorService();
      ExecutorService wrapped = ContextExecutors.wrap(delegate);

      delegate.terminated = false;
      assertThat(wrapped.awaitTermination(5, TimeUnit.HOURS)).isFalse();
      delegate.terminated = true;
      assertThat(wrapped.awaitTermination(7, MILLISECONDS)).isTrue();
      assertThat(wrapped.isShutdown()).isFalse();
      wrapped.shutdown();
      assertThat(wrapped.isShutdown()).isTrue();
      assertThat(wrapped.isTerminated()).isTrue();
      wrapped.close();

      assertThat(delegate.calls)
          .containsExactly(
              "awaitTermination(5 HOURS)",
              "awaitTermination(7 MILLISECONDS)",
              "isShutdown",
              "shutdown",
              "isShutdown",
              "isTerminated",
              "close");
    }

    @Test
    void wrap_ofAWrappedExecutorService_returnsItUnchanged() {
      ExecutorService wrapped = ContextExecutors.wrap(new RecordingExecutorService());

      assertThat(ContextExecutors.wrap(wrapped)).isSameAs(wrapped);
      assertThat(ContextExecutors.wrap(ContextExecutors.wrap(wrapped))).isSameAs(wrapped);
    }
  }

  /* ---- wrap(ExecutorService): a ForkJoinPool ---- */

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WrappedForkJoinPool extends PooledContract {

    @Override
    Pool open(int threads, ThreadFactory ignored) {
      ExecutorService delegate = new ForkJoinPool(threads);
      return new Pool(delegate, ContextExecutors.wrap(delegate));
    }

    @Override
    Stream<Arguments> cases() {
      // A ForkJoinPool makes its own (platform) workers.
      return casesOf(platformOnly(), Way.OF_EXECUTOR_SERVICE);
    }
  }

  /* ---- wrap(ScheduledExecutorService) ---- */

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WrappedScheduledThreadPool extends PooledContract {

    @Override
    Pool open(int threads, ThreadFactory factory) {
      ScheduledExecutorService delegate = new ScheduledThreadPoolExecutor(threads, factory);
      return new Pool(delegate, ContextExecutors.wrap(delegate));
    }

    @Override
    Stream<Arguments> cases() {
      List<Way> ways = new ArrayList<>(Way.OF_EXECUTOR_SERVICE);
      ways.add(Way.SCHEDULE_RUNNABLE);
      ways.add(Way.SCHEDULE_CALLABLE);
      return casesOf(ExecTestSupport.threadKinds(), ways);
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
      try (Pool pool = open(1, factory)) {
        ScheduledExecutorService wrapped = (ScheduledExecutorService) pool.wrapped();
        int runs = 4;
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        inNewContext(
            () -> {
              NAME.set("at scheduling");
              CountDownLatch submitterSetAgain = new CountDownLatch(1);
              CountDownLatch enoughRuns = new CountDownLatch(runs);
              AtomicInteger run = new AtomicInteger();
              ScheduledFuture<?> future =
                  periodic.schedule(
                      wrapped,
                      () -> {
                        int n = run.incrementAndGet();
                        if (n == 1) {
                          try {
                            await(submitterSetAgain);
                          } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                          }
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

        assertThat(seen)
            .as("every run saw the values at scheduling and no earlier run's sets")
            .hasSizeGreaterThanOrEqualTo(runs)
            .allSatisfy(observed -> assertThat(observed).isEqualTo("at scheduling,no counter"));
        assertThat(onPoolThread(pool.delegate(), ExecTestSupport::currentMapping))
            .as("the pool thread's own context after the runs")
            .isEmpty();
      }
    }

    @ParameterizedTest
    @MethodSource(THREAD_KINDS)
    void shutdownNow_scheduledTasks_comeBackAsTheDelegatesOwnFutures(ThreadFactory factory)
        throws Exception {
      // A ScheduledThreadPoolExecutor queues its own RunnableScheduledFutures, not the tasks
      // handed to it, wrapped or not: the wrapper passes them on as they are.
      ScheduledExecutorService delegate = new ScheduledThreadPoolExecutor(1, factory);
      ScheduledExecutorService wrapped = ContextExecutors.wrap(delegate);
      wrapped.schedule(() -> {}, 1, TimeUnit.HOURS);
      wrapped.scheduleAtFixedRate(() -> {}, 1, 1, TimeUnit.HOURS);

      List<Runnable> pending = wrapped.shutdownNow();

      assertThat(pending).hasSize(2).allSatisfy(r -> assertThat(r).isInstanceOf(RunnableScheduledFuture.class));
      assertThat(wrapped.awaitTermination(TIMEOUT_SECONDS, SECONDS)).isTrue();
    }

    @Test
    void wrap_ofAWrappedScheduledExecutorService_returnsItUnchanged() throws Exception {
      ScheduledExecutorService delegate = new ScheduledThreadPoolExecutor(1);
      try {
        ScheduledExecutorService wrapped = ContextExecutors.wrap(delegate);

        assertThat(ContextExecutors.wrap(wrapped)).isSameAs(wrapped);
        assertThat(ContextExecutors.wrap((ExecutorService) wrapped)).isSameAs(wrapped);
        assertThat(ContextExecutors.wrap((Executor) wrapped)).isSameAs(wrapped);
      } finally {
        terminate(delegate);
      }
    }
  }

  /* ---- newVirtualThreadPerTaskExecutor ---- */

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class NewVirtualThreadPerTaskExecutor extends Contract {

    @Override
    Pool open(int threads, ThreadFactory ignored) {
      ExecutorService executor = ContextExecutors.newVirtualThreadPerTaskExecutor();
      return new Pool(executor, executor);
    }

    @Override
    Stream<Arguments> cases() {
      return casesOf(
          ExecTestSupport.threadKinds().filter(kind -> kind.getName().equals("virtual")),
          Way.OF_EXECUTOR_SERVICE);
    }

    @Test
    void submit_runsEachTaskOnANewVirtualThread_inACopy() throws Exception {
      try (ExecutorService executor = ContextExecutors.newVirtualThreadPerTaskExecutor()) {
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
            });
      }
    }

    @Test
    void close_waitsForRunningTasks_andWrapReturnsTheExecutorUnchanged() throws Exception {
      ExecutorService executor = ContextExecutors.newVirtualThreadPerTaskExecutor();
      assertThat(ContextExecutors.wrap(executor)).isSameAs(executor);
      CountDownLatch started = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      AtomicInteger finished = new AtomicInteger();
      executor.execute(
          () -> {
            started.countDown();
            try {
              await(release);
            } catch (InterruptedException e) {
              throw new IllegalStateException(e);
            }
            finished.incrementAndGet();
          });
      await(started);
      AtomicInteger finishedWhenClosed = new AtomicInteger(-1);
      Thread closer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    executor.close();
                    finishedWhenClosed.set(finished.get());
                  });
      release.countDown();
      assertThat(closer.join(java.time.Duration.ofSeconds(TIMEOUT_SECONDS))).isTrue();

      assertThat(finishedWhenClosed).as("close() returned after the task finished").hasValue(1);
      assertThat(executor.isTerminated()).isTrue();
    }
  }

  /* ---- capture ---- */

  @Nested
  class Capture {

    @Test
    void captureRunnable_eachRunStartsFromANewCopyOfTheCapturedContext() throws Exception {
      inNewContext(
          () -> {
            NAME.set("at capture");
            List<String> seen = new ArrayList<>();
            Runnable captured =
                ContextExecutors.capture(
                    () -> {
                      seen.add(observed());
                      NAME.set("set by run");
                      COUNTER.set(seen.size());
                    });
            NAME.set("after capture");

            captured.run();
            captured.run();
            captured.run();

            assertThat(seen)
                .containsExactly("at capture,no counter", "at capture,no counter", "at capture,no counter");
            assertThat(observed()).isEqualTo("after capture,no counter");
          });
    }

    @Test
    void captureCallable_eachCallStartsFromANewCopy_andReturnsTheResult() throws Exception {
      inNewContext(
          () -> {
            NAME.set("at capture");
            AtomicInteger calls = new AtomicInteger();
            Callable<String> captured =
                ContextExecutors.capture(
                    () -> {
                      String seen = observed();
                      NAME.set("set by call");
                      COUNTER.set(calls.incrementAndGet());
                      return seen;
                    });
            NAME.set("after capture");

            assertThat(captured.call()).isEqualTo("at capture,no counter");
            assertThat(captured.call()).isEqualTo("at capture,no counter");
            assertThat(observed()).isEqualTo("after capture,no counter");
          });
    }

    @ParameterizedTest
    @MethodSource(THREAD_KINDS)
    void capture_runningOnTwoThreadsAtOnce_eachRunHasItsOwnCopy(ThreadFactory factory)
        throws Exception {
      inNewContext(
          () -> {
            NAME.set("at capture");
            CountDownLatch bothInside = new CountDownLatch(2);
            Runnable runnable =
                ContextExecutors.capture(
                    () -> {
                      assertThat(name()).isEqualTo("at capture");
                      NAME.set(Thread.currentThread().getName());
                      try {
                        meet(bothInside);
                      } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                      }
                      assertThat(name()).isEqualTo(Thread.currentThread().getName());
                    });
            CountDownLatch bothCalling = new CountDownLatch(2);
            Callable<String> callable =
                ContextExecutors.capture(
                    () -> {
                      String seen = name();
                      NAME.set(Thread.currentThread().getName());
                      meet(bothCalling);
                      return seen + "/" + (name().equals(Thread.currentThread().getName()));
                    });
            try (ExecutorService threads = Executors.newThreadPerTaskExecutor(factory)) {
              Future<?> a = threads.submit(runnable);
              Future<?> b = threads.submit(runnable);
              Future<String> c = threads.submit(callable);
              Future<String> d = threads.submit(callable);
              join(a);
              join(b);
              assertThat(join(c)).isEqualTo("at capture/true");
              assertThat(join(d)).isEqualTo("at capture/true");
            }
          });
    }
  }

  /* ---- null arguments ---- */

  @Test
  void nullArguments_throwNpeNamingTheParameter() throws Exception {
    ExecutorService fixed = Executors.newFixedThreadPool(1);
    ScheduledExecutorService scheduled = new ScheduledThreadPoolExecutor(1);
    ExecutorService virtual = ContextExecutors.newVirtualThreadPerTaskExecutor();
    try {
      List<NullCase> cases = new ArrayList<>();
      Runnable runnable = () -> {};
      Callable<String> callable = () -> "x";

      cases.add(new NullCase("ContextExecutors.wrap(Executor)", "executor",
          () -> ContextExecutors.wrap((Executor) null)));
      cases.add(new NullCase("ContextExecutors.wrap(ExecutorService)", "executor",
          () -> ContextExecutors.wrap((ExecutorService) null)));
      cases.add(new NullCase("ContextExecutors.wrap(ScheduledExecutorService)", "executor",
          () -> ContextExecutors.wrap((ScheduledExecutorService) null)));
      cases.add(new NullCase("ContextExecutors.capture(Runnable)", "task",
          () -> ContextExecutors.capture((Runnable) null)));
      cases.add(new NullCase("ContextExecutors.capture(Callable)", "task",
          () -> ContextExecutors.capture((Callable<?>) null)));

      cases.add(new NullCase("ContextThreads.start builder", "builder",
          () -> ContextThreads.start(null, runnable)));
      cases.add(new NullCase("ContextThreads.start task", "task",
          () -> ContextThreads.start(Thread.ofVirtual(), null)));
      cases.add(new NullCase("ContextThreads.unstarted builder", "builder",
          () -> ContextThreads.unstarted(null, runnable)));
      cases.add(new NullCase("ContextThreads.unstarted task", "task",
          () -> ContextThreads.unstarted(Thread.ofPlatform(), null)));

      cases.add(new NullCase("ContextFutures.supplyAsync(Supplier)", "supplier",
          () -> ContextFutures.supplyAsync(null)));
      cases.add(new NullCase("ContextFutures.supplyAsync(Supplier, Executor) supplier", "supplier",
          () -> ContextFutures.supplyAsync(null, fixed)));
      cases.add(new NullCase("ContextFutures.supplyAsync(Supplier, Executor) executor", "executor",
          () -> ContextFutures.supplyAsync(() -> "x", null)));
      cases.add(new NullCase("ContextFutures.runAsync(Runnable)", "action",
          () -> ContextFutures.runAsync(null)));
      cases.add(new NullCase("ContextFutures.runAsync(Runnable, Executor) action", "action",
          () -> ContextFutures.runAsync(null, fixed)));
      cases.add(new NullCase("ContextFutures.runAsync(Runnable, Executor) executor", "executor",
          () -> ContextFutures.runAsync(runnable, null)));
      cases.add(new NullCase("ContextFutures.wrap(CompletableFuture)", "future",
          () -> ContextFutures.wrap((CompletableFuture<?>) null)));
      cases.add(new NullCase("ContextFutures.wrap(CompletionStage)", "stage",
          () -> ContextFutures.wrap((CompletionStage<?>) null)));

      Executor plain = ContextExecutors.wrap((Executor) fixed);
      cases.add(new NullCase("wrap(Executor).execute", "command", () -> plain.execute(null)));

      List<Named<ExecutorService>> services =
          List.of(
              Named.of("wrap(ExecutorService)", ContextExecutors.wrap(fixed)),
              Named.of("wrap(ScheduledExecutorService)", ContextExecutors.wrap(scheduled)),
              Named.of("newVirtualThreadPerTaskExecutor()", virtual));
      List<Callable<String>> withNull = Arrays.asList(callable, null);
      for (Named<ExecutorService> named : services) {
        String of = named.getName();
        ExecutorService ex = named.getPayload();
        cases.add(new NullCase(of + ".execute", "command", () -> ex.execute(null)));
        cases.add(new NullCase(of + ".submit(Runnable)", "task", () -> ex.submit((Runnable) null)));
        cases.add(new NullCase(of + ".submit(Runnable, T)", "task", () -> ex.submit(null, "r")));
        cases.add(new NullCase(of + ".submit(Callable)", "task",
            () -> ex.submit((Callable<?>) null)));
        cases.add(new NullCase(of + ".invokeAll", "tasks", () -> ex.invokeAll(null)));
        cases.add(new NullCase(of + ".invokeAll element", "tasks[1]", () -> ex.invokeAll(withNull)));
        cases.add(new NullCase(of + ".invokeAll timed", "tasks",
            () -> ex.invokeAll(null, 1, SECONDS)));
        cases.add(new NullCase(of + ".invokeAll timed element", "tasks[1]",
            () -> ex.invokeAll(withNull, 1, SECONDS)));
        cases.add(new NullCase(of + ".invokeAll timed unit", "unit",
            () -> ex.invokeAll(List.of(callable), 1, null)));
        cases.add(new NullCase(of + ".invokeAny", "tasks", () -> ex.invokeAny(null)));
        cases.add(new NullCase(of + ".invokeAny element", "tasks[1]", () -> ex.invokeAny(withNull)));
        cases.add(new NullCase(of + ".invokeAny timed", "tasks",
            () -> ex.invokeAny(null, 1, SECONDS)));
        cases.add(new NullCase(of + ".invokeAny timed element", "tasks[1]",
            () -> ex.invokeAny(withNull, 1, SECONDS)));
        cases.add(new NullCase(of + ".invokeAny timed unit", "unit",
            () -> ex.invokeAny(List.of(callable), 1, null)));
        cases.add(new NullCase(of + ".awaitTermination unit", "unit",
            () -> ex.awaitTermination(1, null)));
      }
      ScheduledExecutorService sched = ContextExecutors.wrap(scheduled);
      cases.add(new NullCase("schedule(Runnable)", "command",
          () -> sched.schedule((Runnable) null, 1, SECONDS)));
      cases.add(new NullCase("schedule(Runnable) unit", "unit",
          () -> sched.schedule(runnable, 1, null)));
      cases.add(new NullCase("schedule(Callable)", "callable",
          () -> sched.schedule((Callable<?>) null, 1, SECONDS)));
      cases.add(new NullCase("schedule(Callable) unit", "unit",
          () -> sched.schedule(callable, 1, null)));
      cases.add(new NullCase("scheduleAtFixedRate", "command",
          () -> sched.scheduleAtFixedRate(null, 1, 1, SECONDS)));
      cases.add(new NullCase("scheduleAtFixedRate unit", "unit",
          () -> sched.scheduleAtFixedRate(runnable, 1, 1, null)));
      cases.add(new NullCase("scheduleWithFixedDelay", "command",
          () -> sched.scheduleWithFixedDelay(null, 1, 1, SECONDS)));
      cases.add(new NullCase("scheduleWithFixedDelay unit", "unit",
          () -> sched.scheduleWithFixedDelay(runnable, 1, 1, null)));

      SoftAssertions softly = new SoftAssertions();
      for (NullCase c : cases) {
        softly
            .assertThatThrownBy(c.call())
            .as(c.method())
            .isInstanceOf(NullPointerException.class)
            .hasMessage(c.parameter());
      }
      softly.assertAll();
      assertThat(ContextFutures.completedFuture(null).join())
          .as("completedFuture takes a null value")
          .isNull();
    } finally {
      terminate(fixed);
      terminate(scheduled);
      terminate(virtual);
    }
  }

  record NullCase(String method, String parameter, ThrowingCallable call) {}

  /** An executor service that only records its life-cycle calls; tasks run on the caller. */
  static final class RecordingExecutorService extends AbstractExecutorService {
    final List<String> calls = new ArrayList<>();
    volatile boolean shutdown;
    volatile boolean terminated;

    @Override
    public void shutdown() {
      calls.add("shutdown");
      shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
      calls.add("shutdownNow");
      shutdown = true;
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      calls.add("isShutdown");
      return shutdown;
    }

    @Override
    public boolean isTerminated() {
      calls.add("isTerminated");
      return terminated;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      calls.add("awaitTermination(" + timeout + " " + unit + ")");
      return terminated;
    }

    @Override
    public void close() {
      calls.add("close");
    }

    @Override
    public void execute(Runnable command) {
      command.run();
    }
  }
}
