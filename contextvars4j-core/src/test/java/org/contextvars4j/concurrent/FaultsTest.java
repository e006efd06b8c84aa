package org.contextvars4j.concurrent;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.contextvars4j.concurrent.ContextExecutorsTest.COUNTER;
import static org.contextvars4j.concurrent.ContextExecutorsTest.NAME;
import static org.contextvars4j.concurrent.ContextExecutorsTest.inNewContext;
import static org.contextvars4j.concurrent.ContextExecutorsTest.observed;
import static org.contextvars4j.concurrent.ExecTestSupport.THREAD_KINDS;
import static org.contextvars4j.concurrent.ExecTestSupport.TIMEOUT_SECONDS;
import static org.contextvars4j.concurrent.ExecTestSupport.await;
import static org.contextvars4j.concurrent.ExecTestSupport.currentMapping;
import static org.contextvars4j.concurrent.ExecTestSupport.get;
import static org.contextvars4j.concurrent.ExecTestSupport.onPoolThread;
import static org.contextvars4j.concurrent.ExecTestSupport.take;
import static org.contextvars4j.concurrent.ExecTestSupport.terminate;
import static org.contextvars4j.concurrent.ExecTestSupport.terminateUninterruptibly;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RejectedExecutionHandler;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.concurrent.ContextExecutorsTest.Way;
import org.contextvars4j.concurrent.ExecTestSupport.Around;
import org.contextvars4j.concurrent.ExecTestSupport.ProbedPool;
import org.contextvars4j.concurrent.ExecTestSupport.ProbedThreads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Faults in wrapped work: a task that throws (a runtime exception, an {@link Error}, a checked
 * exception), is cancelled while running, is interrupted, or is rejected, leaves no context behind
 * on any thread, and what it threw reaches the caller unchanged: the very instance, wherever the
 * JDK itself hands the instance on.
 *
 * <p>"No context behind" is checked where it could hide: on the worker, right after the task, by
 * pools that record the worker's context in {@code afterExecute} ({@link ProbedPool}), and by
 * thread factories that record it when the thread's task returns ({@link ProbedThreads}); and on
 * the submitter, whose mapping must be exactly what it was.
 */
final class FaultsTest {

  @AfterEach
  void testThreadLeftInAnEmptyContext() {
    assertThat(Context.copyCurrent().size())
        .as("the test left no value in the test thread's context")
        .isZero();
  }

  /** Throws {@code failure} from code whose signature does not declare it. */
  @SuppressWarnings("unchecked")
  static <E extends Throwable> RuntimeException sneakyThrow(Throwable failure) throws E {
    throw (E) failure;
  }

  /** A failure made fresh for each case, so that an identity check means something. */
  static Stream<Named<Supplier<Throwable>>> failures() {
    return Stream.of(
        Named.of("RuntimeException", () -> new IllegalStateException("boom")),
        Named.of("Error", () -> new Error("boom")),
        Named.of("checked exception", () -> new IOException("boom")),
        Named.of("InterruptedException", () -> new InterruptedException("boom")));
  }

  /** What an uncaught-exception handler received, and the context it ran in. */
  record Uncaught(Throwable failure, Thread thread, Map<ContextVar<?>, Object> mapping) {}

  /**
   * A wrapped executor whose workers report the context they are left in after each task, and
   * whose threads report what reaches their uncaught-exception handler.
   */
  abstract static class Rig implements AutoCloseable {
    final BlockingQueue<Uncaught> uncaught = new LinkedBlockingQueue<>();
    ExecutorService delegate;
    ExecutorService wrapped;

    /** {@return {@code factory}, its threads reporting to {@link #uncaught}} */
    ThreadFactory reporting(ThreadFactory factory) {
      return task -> {
        Thread thread = factory.newThread(task);
        thread.setUncaughtExceptionHandler(
            (t, e) -> uncaught.add(new Uncaught(e, t, currentMapping())));
        return thread;
      };
    }

    /** {@return the context the worker was left in after the next task, waiting for it} */
    abstract Map<ContextVar<?>, Object> contextLeftByNextTask() throws Exception;

    /** {@return whether the pool preserves the instance a task threw (ForkJoinPool may not)} */
    boolean preservesInstances() {
      return true;
    }

    @Override
    public void close() {
      terminateUninterruptibly(delegate);
    }
  }

  /** A thread pool that records each worker's context before and after each task. */
  static final class PoolRig extends Rig {
    final ProbedPool pool;

    PoolRig(ThreadFactory factory) {
      pool = new ProbedPool(1, reporting(factory));
      delegate = pool;
      wrapped = ContextExecutors.wrap(delegate);
    }

    @Override
    Map<ContextVar<?>, Object> contextLeftByNextTask() throws InterruptedException {
      Around around = pool.nextAround();
      assertThat(around.before()).as("the fresh worker's own context before the task").isEmpty();
      return around.after();
    }
  }

  /** A thread per task, each thread recording its context when its task returned. */
  static final class ThreadPerTaskRig extends Rig {
    final ProbedThreads threads;

    ThreadPerTaskRig() {
      threads = new ProbedThreads(reporting(Thread.ofVirtual().factory()));
      // What ContextExecutors.newVirtualThreadPerTaskExecutor() wraps, but with probed threads.
      delegate = Executors.newThreadPerTaskExecutor(threads);
      wrapped = ContextExecutors.wrap(delegate);
    }

    @Override
    Map<ContextVar<?>, Object> contextLeftByNextTask() throws InterruptedException {
      return threads.nextAfter();
    }
  }

  /** A ForkJoinPool of one worker, checked by an unwrapped task run after the one under test. */
  static final class ForkJoinRig extends Rig {
    ForkJoinRig() {
      delegate = new ForkJoinPool(1);
      wrapped = ContextExecutors.wrap(delegate);
    }

    @Override
    Map<ContextVar<?>, Object> contextLeftByNextTask() throws Exception {
      return onPoolThread(delegate, ExecTestSupport::currentMapping);
    }

    @Override
    boolean preservesInstances() {
      // ForkJoinTask.get may rethrow a copy of a failure from another thread, caused by it.
      return false;
    }
  }

  @FunctionalInterface
  interface RigMaker {
    Rig open();
  }

  static Stream<Named<RigMaker>> rigs() {
    return Stream.of(
        Named.of("platform pool", () -> new PoolRig(Thread.ofPlatform().daemon().factory())),
        Named.of("virtual pool", () -> new PoolRig(Thread.ofVirtual().factory())),
        Named.of("virtual thread per task", ThreadPerTaskRig::new),
        Named.of("ForkJoinPool", ForkJoinRig::new));
  }

  static Stream<Arguments> rigsAndFailures() {
    return rigs().flatMap(rig -> failures().map(failure -> Arguments.of(rig, failure)));
  }

  /** Asserts that {@code reported} is {@code thrown} itself, or where the rig allows, its copy. */
  static void assertIsTheThrownInstance(Rig rig, Throwable reported, Throwable thrown) {
    if (rig.preservesInstances() || reported == thrown) {
      assertThat(reported).as("the instance the task threw").isSameAs(thrown);
    } else {
      assertThat(reported)
          .as("a same-type copy caused by the thrown instance (ForkJoinTask's documented rethrow)")
          .isExactlyInstanceOf(thrown.getClass())
          .cause()
          .isSameAs(thrown);
    }
    assertThat(thrown.getSuppressed()).as("nothing was added to the failure").isEmpty();
  }

  /* ---- a task that throws ---- */

  /** The ways of handing over a task whose failure the caller sees through a Future. */
  enum Submission {
    SUBMIT_CALLABLE {
      @Override
      Future<String> submit(ExecutorService ex, Callable<String> task) {
        return ex.submit(task);
      }
    },
    SUBMIT_RUNNABLE {
      @Override
      Future<?> submit(ExecutorService ex, Callable<String> task) {
        return ex.submit(() -> callSneakily(task));
      }
    },
    SUBMIT_RUNNABLE_WITH_RESULT {
      @Override
      Future<?> submit(ExecutorService ex, Callable<String> task) {
        return ex.submit(() -> callSneakily(task), "result");
      }
    },
    INVOKE_ALL {
      @Override
      Future<?> submit(ExecutorService ex, Callable<String> task) throws Exception {
        return ex.invokeAll(List.of(task)).get(0);
      }
    },
    INVOKE_ALL_TIMED {
      @Override
      Future<?> submit(ExecutorService ex, Callable<String> task) throws Exception {
        return ex.invokeAll(List.of(task), TIMEOUT_SECONDS, SECONDS).get(0);
      }
    };

    abstract Future<?> submit(ExecutorService ex, Callable<String> task) throws Exception;

    static void callSneakily(Callable<String> task) {
      try {
        task.call();
      } catch (Exception e) {
        throw FaultsTest.<RuntimeException>sneakyThrow(e);
      }
    }
  }

  static Stream<Arguments> rigsFailuresAndSubmissions() {
    return rigsAndFailures()
        .flatMap(
            args ->
                Stream.of(Submission.values())
                    .map(way -> Arguments.of(args.get()[0], args.get()[1], way)));
  }

  @ParameterizedTest(name = "{0}, {1}, {2}")
  @MethodSource("rigsFailuresAndSubmissions")
  void taskThrows_futureFailsWithTheSameInstance_andNoContextIsLeftAnywhere(
      RigMaker maker, Supplier<Throwable> failure, Submission way) throws Exception {
    Throwable boom = failure.get();
    try (Rig rig = maker.open()) {
      inNewContext(
          () -> {
            NAME.set("outer");
            Map<ContextVar<?>, Object> submitters = currentMapping();
            Future<?> future =
                way.submit(
                    rig.wrapped,
                    () -> {
                      NAME.set("set by the failing task");
                      COUNTER.set(1);
                      throw sneakyThrow(boom);
                    });

            Throwable thrown = catchThrowable(() -> get(future));

            assertThat(thrown).isInstanceOf(ExecutionException.class);
            assertIsTheThrownInstance(rig, thrown.getCause(), boom);
            assertThat(currentMapping()).as("the submitter's context").isEqualTo(submitters);
          });
      assertThat(rig.contextLeftByNextTask()).as("the worker's context after the task").isEmpty();
    }
  }

  @ParameterizedTest(name = "{0}, {1}")
  @MethodSource("rigsAndFailures")
  void invokeAny_everyTaskThrows_executionExceptionCauseIsOneOfTheThrownInstances(
      RigMaker maker, Supplier<Throwable> failure) throws Exception {
    List<Throwable> thrown = List.of(failure.get(), failure.get());
    try (Rig rig = maker.open()) {
      inNewContext(
          () -> {
            NAME.set("outer");
            List<Callable<String>> tasks = new ArrayList<>();
            for (Throwable boom : thrown) {
              tasks.add(
                  () -> {
                    NAME.set("set by a failing task");
                    throw sneakyThrow(boom);
                  });
            }

            Throwable reported = catchThrowable(() -> rig.wrapped.invokeAny(tasks));
            Throwable reportedTimed =
                catchThrowable(() -> rig.wrapped.invokeAny(tasks, TIMEOUT_SECONDS, SECONDS));

            for (Throwable r : List.of(reported, reportedTimed)) {
              assertThat(r).isInstanceOf(ExecutionException.class);
              if (rig.preservesInstances()) {
                assertThat(thrown).as("one of the thrown instances").containsOnlyOnce(r.getCause());
              } else {
                // ForkJoinPool's own invokeAny reports some failures (an Error: a
                // CancellationException) in its own way: the wrapper must report the same.
                Throwable unwrapped = unwrappedInvokeAnyFailure(rig.delegate, failure);
                assertThat(r.getCause()).hasSameClassAs(unwrapped.getCause());
              }
            }
            assertThat(observed()).isEqualTo("outer,no counter");
          });
      // Two failing tasks per call, two calls; a ForkJoinPool's one worker is checked once.
      int tasks = rig instanceof ForkJoinRig ? 1 : 4;
      for (int task = 0; task < tasks; task++) {
        assertThat(rig.contextLeftByNextTask()).as("the worker's context after a task").isEmpty();
      }
    }
  }

  /** {@return what {@code delegate} itself throws from invokeAny when every task fails so} */
  private static Throwable unwrappedInvokeAnyFailure(
      ExecutorService delegate, Supplier<Throwable> failure) {
    List<Callable<String>> tasks = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Throwable boom = failure.get();
      tasks.add(() -> { throw sneakyThrow(boom); });
    }
    Throwable thrown = catchThrowable(() -> delegate.invokeAny(tasks));
    assertThat(thrown).isInstanceOf(ExecutionException.class);
    return thrown;
  }

  @ParameterizedTest(name = "{0}, {1}")
  @MethodSource("rigsAndFailures")
  void execute_taskThrows_uncaughtHandlerGetsTheSameInstance_inTheWorkersOwnEmptyContext(
      RigMaker maker, Supplier<Throwable> failure) throws Exception {
    Throwable boom = failure.get();
    try (Rig rig = maker.open()) {
      if (rig instanceof ForkJoinRig) {
        // ForkJoinPool.execute reports through its own handler; covered by submit above.
        return;
      }
      inNewContext(
          () -> {
            NAME.set("outer");
            rig.wrapped.execute(
                () -> {
                  NAME.set("set by the failing task");
                  throw FaultsTest.<RuntimeException>sneakyThrow(boom);
                });

            Uncaught uncaught = take(rig.uncaught);
            assertThat(uncaught.failure()).as("what reached the handler").isSameAs(boom);
            assertThat(uncaught.mapping())
                .as("the handler ran in the worker's own context, which the task left empty")
                .isEmpty();
            assertThat(observed()).isEqualTo("outer,no counter");
          });
      assertThat(rig.contextLeftByNextTask()).isEmpty();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("failures")
  void execute_onACallerRunsExecutor_taskThrows_sameInstanceFromExecute_callerRestored(
      Supplier<Throwable> failure) throws Exception {
    Throwable boom = failure.get();
    Executor direct = ContextExecutors.wrap((Executor) Runnable::run);
    inNewContext(
        () -> {
          NAME.set("outer");
          Map<ContextVar<?>, Object> before = currentMapping();

          assertThatThrownBy(
                  () ->
                      direct.execute(
                          () -> {
                            NAME.set("set by the failing task");
                            COUNTER.set(1);
                            throw FaultsTest.<RuntimeException>sneakyThrow(boom);
                          }))
              .isSameAs(boom);
          assertThat(boom.getSuppressed()).isEmpty();
          assertThat(currentMapping()).isEqualTo(before);
        });
  }

  /* ---- cancelled and interrupted ---- */

  /** A task that waits until interrupted, after setting values; it reports the interrupt. */
  static Callable<String> waitsUntilInterrupted(
      CountDownLatch started, CountDownLatch interrupted) {
    return () -> {
      NAME.set("set by the waiting task");
      COUNTER.set(1);
      started.countDown();
      try {
        new CountDownLatch(1).await(TIMEOUT_SECONDS, SECONDS);
        return "never interrupted";
      } catch (InterruptedException e) {
        interrupted.countDown();
        throw e;
      }
    };
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rigs")
  void cancelWhileRunning_interruptsTheTask_andNoContextIsLeft(RigMaker maker) throws Exception {
    try (Rig rig = maker.open()) {
      inNewContext(
          () -> {
            NAME.set("outer");
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch interrupted = new CountDownLatch(1);
            Future<String> future =
                rig.wrapped.submit(waitsUntilInterrupted(started, interrupted));
            await(started);

            assertThat(future.cancel(true)).isTrue();

            await(interrupted);
            assertThat(future.isCancelled()).isTrue();
            assertThatThrownBy(() -> get(future)).isInstanceOf(CancellationException.class);
            assertThat(observed()).isEqualTo("outer,no counter");
          });
      assertThat(rig.contextLeftByNextTask()).as("the worker's context after the task").isEmpty();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rigs")
  void shutdownNow_interruptsTheRunningTask_andNoContextIsLeft(RigMaker maker) throws Exception {
    try (Rig rig = maker.open()) {
      inNewContext(
          () -> {
            NAME.set("outer");
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch interrupted = new CountDownLatch(1);
            Callable<String> task = waitsUntilInterrupted(started, interrupted);
            rig.wrapped.execute(() -> Submission.callSneakily(task));
            await(started);

            rig.wrapped.shutdownNow();

            await(interrupted);
            assertThat(rig.wrapped.awaitTermination(TIMEOUT_SECONDS, SECONDS)).isTrue();
            assertThat(observed()).isEqualTo("outer,no counter");
          });
      if (!(rig instanceof ForkJoinRig)) {
        assertThat(rig.contextLeftByNextTask()).isEmpty();
        Uncaught uncaught = take(rig.uncaught);
        assertThat(uncaught.failure()).isInstanceOf(InterruptedException.class);
        assertThat(uncaught.mapping()).isEmpty();
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rigs")
  void invokeAllTimed_timesOut_cancelsTheRunningTask_andNoContextIsLeft(RigMaker maker)
      throws Exception {
    try (Rig rig = maker.open()) {
      inNewContext(
          () -> {
            NAME.set("outer");
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch interrupted = new CountDownLatch(1);

            // A bounded wait by design: the deadline is what is under test.
            List<Future<String>> futures =
                rig.wrapped.invokeAll(
                    List.of(waitsUntilInterrupted(started, interrupted)), 50, MILLISECONDS);

            assertThat(futures.get(0).isCancelled()).isTrue();
            if (started.getCount() == 0) {
              await(interrupted);
            }
            assertThat(observed()).isEqualTo("outer,no counter");
          });
      if (!(rig instanceof ForkJoinRig)) {
        // Another task, so that there is a record even if the first was cancelled unstarted.
        get(rig.wrapped.submit(() -> {}));
      }
      assertThat(rig.contextLeftByNextTask()).as("the worker's context after the task").isEmpty();
    }
  }

  /* ---- rejected ---- */

  /** A handler that rejects with one prepared instance, so that identity can be checked. */
  static final class Rejecting implements RejectedExecutionHandler {
    final RejectedExecutionException rejection = new RejectedExecutionException("rejected");
    final AtomicInteger calls = new AtomicInteger();

    @Override
    public void rejectedExecution(Runnable r, ThreadPoolExecutor executor) {
      calls.incrementAndGet();
      throw rejection;
    }
  }

  static Stream<Arguments> threadKindsAndWays() {
    List<Way> ways = new ArrayList<>(Way.OF_EXECUTOR_SERVICE);
    ways.add(Way.SCHEDULE_RUNNABLE);
    ways.add(Way.SCHEDULE_CALLABLE);
    return ExecTestSupport.threadKinds()
        .flatMap(kind -> ways.stream().map(way -> Arguments.of(kind, way)));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("threadKindsAndWays")
  void shutDownPool_everyWayOfHandingOver_throwsTheRejectionUnchanged_submitterUnchanged(
      ThreadFactory factory, Way way) throws Exception {
    Rejecting handler = new Rejecting();
    // A ScheduledThreadPoolExecutor is a ThreadPoolExecutor: one pool serves every way.
    ScheduledThreadPoolExecutor delegate = new ScheduledThreadPoolExecutor(1, factory, handler);
    ScheduledExecutorService wrapped = ContextExecutors.wrap(delegate);
    delegate.shutdown();
    AtomicBoolean ran = new AtomicBoolean();
    inNewContext(
        () -> {
          NAME.set("outer");
          Map<ContextVar<?>, Object> before = currentMapping();

          assertThatThrownBy(
                  () ->
                      way.start(
                          wrapped,
                          () -> {
                            ran.set(true);
                            return "ran";
                          }))
              .as("the handler's rejection, unchanged")
              .isSameAs(handler.rejection);

          assertThat(currentMapping()).as("the submitter's context").isEqualTo(before);
        });
    assertThat(handler.calls).hasValue(1);
    assertThat(ran).as("the rejected task never ran").isFalse();
    terminate(delegate);
  }

  @ParameterizedTest
  @MethodSource(THREAD_KINDS)
  void shutDownPool_periodicSchedules_throwTheRejectionUnchanged(ThreadFactory factory)
      throws Exception {
    Rejecting handler = new Rejecting();
    ScheduledThreadPoolExecutor delegate = new ScheduledThreadPoolExecutor(1, factory, handler);
    ScheduledExecutorService wrapped = ContextExecutors.wrap(delegate);
    delegate.shutdown();
    inNewContext(
        () -> {
          NAME.set("outer");
          Map<ContextVar<?>, Object> before = currentMapping();

          assertThatThrownBy(() -> wrapped.scheduleAtFixedRate(() -> {}, 0, 1, SECONDS))
              .isSameAs(handler.rejection);
          assertThatThrownBy(() -> wrapped.scheduleWithFixedDelay(() -> {}, 0, 1, SECONDS))
              .isSameAs(handler.rejection);

          assertThat(currentMapping()).isEqualTo(before);
        });
    terminate(delegate);
  }

  static Stream<Arguments> threadKindsAndServiceWays() {
    return ExecTestSupport.threadKinds()
        .flatMap(kind -> Way.OF_EXECUTOR_SERVICE.stream().map(way -> Arguments.of(kind, way)));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("threadKindsAndServiceWays")
  void saturatedPool_abortPolicy_rejects_submitterUnchanged_workerClean(
      ThreadFactory factory, Way way) throws Exception {
    ProbedPool delegate =
        ProbedPool.saturable(factory, 1, new ThreadPoolExecutor.AbortPolicy());
    ExecutorService wrapped = ContextExecutors.wrap(delegate);
    try {
      inNewContext(
          () -> {
            NAME.set("outer");
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Future<String> running =
                wrapped.submit(
                    () -> {
                      NAME.set("set by the running task");
                      started.countDown();
                      await(release);
                      return observed();
                    });
            await(started);
            Future<String> queued =
                wrapped.submit(
                    () -> {
                      String seen = observed();
                      COUNTER.set(2);
                      return seen;
                    });
            Map<ContextVar<?>, Object> before = currentMapping();

            assertThatThrownBy(() -> way.start(wrapped, () -> "rejected task ran"))
                .isInstanceOf(RejectedExecutionException.class);

            assertThat(currentMapping()).as("the submitter's context").isEqualTo(before);
            release.countDown();
            assertThat(get(running)).isEqualTo("set by the running task,no counter");
            assertThat(get(queued)).isEqualTo("outer,no counter");
          });
      for (int task = 0; task < 2; task++) {
        Around around = delegate.nextAround();
        assertThat(around.before()).isEmpty();
        assertThat(around.after()).as("the worker's context after a task").isEmpty();
      }
    } finally {
      terminate(delegate);
    }
  }

  @ParameterizedTest
  @MethodSource(THREAD_KINDS)
  void saturatedPool_callerRunsPolicy_runsTheTaskOnTheSubmitterInACopy_nothingLeaks(
      ThreadFactory factory) throws Exception {
    ProbedPool delegate =
        ProbedPool.saturable(factory, 1, new ThreadPoolExecutor.CallerRunsPolicy());
    ExecutorService wrapped = ContextExecutors.wrap(delegate);
    try {
      inNewContext(
          () -> {
            NAME.set("outer");
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            wrapped.execute(
                () -> {
                  started.countDown();
                  try {
                    await(release);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
            await(started);
            wrapped.execute(() -> {});
            Thread submitter = Thread.currentThread();
            List<String> seen = new ArrayList<>();

            wrapped.execute(
                () -> {
                  seen.add(Thread.currentThread() == submitter ? "on submitter" : "elsewhere");
                  seen.add(observed());
                  NAME.set("set by the caller-run task");
                  COUNTER.set(3);
                });
            Throwable boom = new Error("boom");
            assertThatThrownBy(
                    () ->
                        wrapped.execute(
                            () -> {
                              NAME.set("set by the failing caller-run task");
                              throw FaultsTest.<RuntimeException>sneakyThrow(boom);
                            }))
                .as("a caller-run task's failure comes out of execute, unchanged")
                .isSameAs(boom);

            assertThat(seen).containsExactly("on submitter", "outer,no counter");
            assertThat(observed())
                .as("the caller-run tasks' sets stayed in their copies")
                .isEqualTo("outer,no counter");
            release.countDown();
          });
      for (int task = 0; task < 2; task++) {
        assertThat(delegate.nextAround().after()).isEmpty();
      }
    } finally {
      terminate(delegate);
    }
  }

  /* ---- scheduled tasks ---- */

  @ParameterizedTest(name = "{0}, {1}")
  @MethodSource("threadKindsAndFailures")
  void scheduledTaskThrows_sameInstance_andThePoolThreadIsLeftEmpty(
      ThreadFactory factory, Supplier<Throwable> failure) throws Exception {
    Throwable boom = failure.get();
    ScheduledThreadPoolExecutor delegate = new ScheduledThreadPoolExecutor(1, factory);
    ScheduledExecutorService wrapped = ContextExecutors.wrap(delegate);
    try {
      inNewContext(
          () -> {
            NAME.set("outer");
            ScheduledFuture<String> future =
                wrapped.schedule(
                    () -> {
                      NAME.set("set by the failing task");
                      throw sneakyThrow(boom);
                    },
                    1,
                    MILLISECONDS);

            Throwable thrown = catchThrowable(() -> get(future));

            assertThat(thrown).isInstanceOf(ExecutionException.class).cause().isSameAs(boom);
            assertThat(observed()).isEqualTo("outer,no counter");
          });
      assertThat(onPoolThread(delegate, ExecTestSupport::currentMapping)).isEmpty();
    } finally {
      terminate(delegate);
    }
  }

  static Stream<Arguments> threadKindsAndFailures() {
    return ExecTestSupport.threadKinds()
        .flatMap(kind -> failures().map(failure -> Arguments.of(kind, failure)));
  }

  @ParameterizedTest(name = "{0}, {1}")
  @MethodSource("threadKindsAndFailures")
  void periodicTaskThrowsOnItsSecondRun_futureFailsWithTheSameInstance_noFurtherRuns(
      ThreadFactory factory, Supplier<Throwable> failure) throws Exception {
    Throwable boom = failure.get();
    ScheduledThreadPoolExecutor delegate = new ScheduledThreadPoolExecutor(1, factory);
    ScheduledExecutorService wrapped = ContextExecutors.wrap(delegate);
    try {
      AtomicInteger runs = new AtomicInteger();
      inNewContext(
          () -> {
            NAME.set("outer");
            ScheduledFuture<?> future =
                wrapped.scheduleWithFixedDelay(
                    () -> {
                      NAME.set("set by run " + runs.incrementAndGet());
                      if (runs.get() == 2) {
                        throw FaultsTest.<RuntimeException>sneakyThrow(boom);
                      }
                    },
                    0,
                    1,
                    MILLISECONDS);

            Throwable thrown = catchThrowable(() -> get(future));

            assertThat(thrown).isInstanceOf(ExecutionException.class).cause().isSameAs(boom);
            assertThat(observed()).isEqualTo("outer,no counter");
          });
      assertThat(onPoolThread(delegate, ExecTestSupport::currentMapping)).isEmpty();
      assertThat(runs).as("a periodic task that threw is not run again").hasValue(2);
    } finally {
      terminate(delegate);
    }
  }

  /* ---- threads ---- */

  static Stream<Arguments> threadBuildersAndFailures() {
    return ExecTestSupport.threadBuilders()
        .flatMap(builder -> failures().map(failure -> Arguments.of(builder, failure)));
  }

  @ParameterizedTest(name = "{0}, {1}")
  @MethodSource("threadBuildersAndFailures")
  void contextThread_bodyThrows_handlerGetsTheSameInstance_inTheThreadsOwnEmptyContext(
      Supplier<Thread.Builder> builders, Supplier<Throwable> failure) throws Exception {
    Throwable boom = failure.get();
    BlockingQueue<Uncaught> uncaught = new LinkedBlockingQueue<>();
    Thread.Builder builder =
        builders
            .get()
            .uncaughtExceptionHandler((t, e) -> uncaught.add(new Uncaught(e, t, currentMapping())));
    inNewContext(
        () -> {
          NAME.set("outer");
          Thread thread =
              ContextThreads.start(
                  builder,
                  () -> {
                    NAME.set("set by the failing body");
                    throw FaultsTest.<RuntimeException>sneakyThrow(boom);
                  });

          Uncaught reported = take(uncaught);
          assertThat(reported.failure()).isSameAs(boom);
          assertThat(reported.thread()).isSameAs(thread);
          assertThat(reported.mapping())
              .as("the handler runs after the body's copy was exited: the thread's own context")
              .isEmpty();
          assertThat(observed()).isEqualTo("outer,no counter");
        });
  }
}
