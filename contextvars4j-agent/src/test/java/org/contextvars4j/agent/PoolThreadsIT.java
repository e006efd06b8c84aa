package org.contextvars4j.agent;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.contextvars4j.agent.Support.COUNTER;
import static org.contextvars4j.agent.Support.NAME;
import static org.contextvars4j.agent.Support.THREAD_KINDS;
import static org.contextvars4j.agent.Support.await;
import static org.contextvars4j.agent.Support.awaitUnchecked;
import static org.contextvars4j.agent.Support.collected;
import static org.contextvars4j.agent.Support.currentMapping;
import static org.contextvars4j.agent.Support.inNewContext;
import static org.contextvars4j.agent.Support.join;
import static org.contextvars4j.agent.Support.joinBounded;
import static org.contextvars4j.agent.Support.name;
import static org.contextvars4j.agent.Support.observed;
import static org.contextvars4j.agent.Support.take;
import static org.contextvars4j.agent.Support.terminate;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.ref.Cleaner;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Timer;
import java.util.TimerTask;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RejectedExecutionHandler;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The threads a pool or a timer starts for itself start empty, although the code that made the
 * pool start them (the first submitter, a submitter that made it grow, the timer's creator) had
 * values bound: those values must not become the pool's, seen by every later task's surroundings
 * (hooks, rejection handlers, timer tasks). And the tasks themselves, each time, run in a copy of
 * their own submitter's context, not of the thread's: every test checks that too, which fails
 * without the agent.
 */
final class PoolThreadsIT {

  @AfterEach
  void testThreadLeftInAnEmptyContext() {
    assertThat(Context.copyCurrent().size())
        .as("the test left no value in the test thread's context")
        .isZero();
  }

  /** What a hook or a handler saw: its thread and the context there. */
  record Seen(String where, Thread thread, Map<ContextVar<?>, Object> mapping) {}

  /** A pool whose hooks record what they see. */
  static final class HookedPool extends ThreadPoolExecutor {
    final BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();

    HookedPool(
        int core,
        int max,
        BlockingQueue<Runnable> queue,
        ThreadFactory factory,
        RejectedExecutionHandler handler) {
      super(core, max, 1, TimeUnit.MINUTES, queue, factory, handler);
    }

    @Override
    protected void beforeExecute(Thread t, Runnable r) {
      seen.add(new Seen("beforeExecute", Thread.currentThread(), currentMapping()));
    }

    @Override
    protected void afterExecute(Runnable r, Throwable t) {
      seen.add(new Seen("afterExecute", Thread.currentThread(), currentMapping()));
    }

    @Override
    protected void terminated() {
      seen.add(new Seen("terminated", Thread.currentThread(), currentMapping()));
    }
  }

  @ParameterizedTest
  @MethodSource(THREAD_KINDS)
  void threadPoolExecutor_workersStartedByTheFirstSubmitter_startEmpty_hooksSeeNoneOfItsValues(
      ThreadFactory factory) throws Exception {
    Support.OwnContexts own = new Support.OwnContexts(factory);
    HookedPool pool =
        new HookedPool(1, 1, new LinkedBlockingQueue<>(), own, new ThreadPoolExecutor.AbortPolicy());
    try {
      inNewContext(
          () -> {
            NAME.set("first submitter's");
            COUNTER.set(1);
            // This execute starts the pool's only worker, on this thread, in this context.
            assertThat(join(pool.submit(Support::observed)))
                .as("the task itself sees its submitter's values")
                .isEqualTo("first submitter's,counter=1");
          });
      inNewContext(
          () -> {
            NAME.set("second submitter's");
            assertThat(join(pool.submit(Support::observed)))
                .as("the next submitter's task sees its own submitter's values only")
                .isEqualTo("second submitter's,no counter");
          });
      List<Seen> hooks = List.of(take(pool.seen), take(pool.seen), take(pool.seen), take(pool.seen));
      assertThat(hooks)
          .extracting(Seen::where)
          .containsExactly("beforeExecute", "afterExecute", "beforeExecute", "afterExecute");
      assertThat(hooks)
          .as("the hooks run on the worker, in its own context: the first submitter's values"
              + " did not become the worker's")
          .allSatisfy(seen -> assertThat(seen.mapping()).isEmpty())
          .allSatisfy(seen -> assertThat(seen.thread()).isNotSameAs(Thread.currentThread()));
    } finally {
      terminate(pool);
    }
    assertThat(take(pool.seen)).extracting(Seen::where).isEqualTo("terminated");
    assertThat(own.atStart()).hasSize(1).allSatisfy(mapping -> assertThat(mapping).isEmpty());
    assertThat(own.atEnd()).allSatisfy(mapping -> assertThat(mapping).isEmpty());
  }

  @ParameterizedTest
  @MethodSource(THREAD_KINDS)
  void threadPoolExecutor_workersAddedAsThePoolGrows_orPrestarted_startEmpty(ThreadFactory factory)
      throws Exception {
    Support.OwnContexts own = new Support.OwnContexts(factory);
    // core 1, max 4, no queue: each submit while the others are busy adds a worker.
    HookedPool pool =
        new HookedPool(1, 4, new SynchronousQueue<>(), own, new ThreadPoolExecutor.AbortPolicy());
    CountDownLatch release = new CountDownLatch(1);
    List<Future<String>> results = new ArrayList<>();
    try {
      for (String submitter : List.of("A", "B", "C")) {
        inNewContext(
            () -> {
              NAME.set(submitter);
              results.add(
                  pool.submit(
                      () -> {
                        String seen = name();
                        NAME.set("set by " + submitter + "'s task");
                        await(release);
                        return seen;
                      }));
            });
      }
      release.countDown();
      List<String> seen = new ArrayList<>();
      for (Future<String> result : results) {
        seen.add(join(result));
      }
      assertThat(seen).as("each task saw its own submitter's value").containsExactly("A", "B", "C");
      assertThat(own.made()).as("each submit started a worker").isEqualTo(3);

      inNewContext(
          () -> {
            NAME.set("prestarter's");
            pool.setCorePoolSize(4);
            assertThat(pool.prestartAllCoreThreads()).as("workers prestarted").isEqualTo(1);
          });
      assertThat(own.made()).isEqualTo(4);
    } finally {
      terminate(pool);
    }
    List<Seen> hooks = new ArrayList<>();
    pool.seen.drainTo(hooks);
    assertThat(hooks)
        .as("every hook ran in its worker's own context, which no submitter's values reached")
        .hasSizeGreaterThanOrEqualTo(6)
        .allSatisfy(s -> assertThat(s.mapping()).as(s.where()).isEmpty());
    assertThat(own.atStart())
        .as("each worker, started by a submitter or by prestartAllCoreThreads, started empty")
        .hasSize(4)
        .allSatisfy(mapping -> assertThat(mapping).isEmpty());
    assertThat(own.atEnd()).allSatisfy(mapping -> assertThat(mapping).isEmpty());
  }

  /** A single-thread pool with a queue of one, whose worker is kept busy: the next two fill it. */
  private static HookedPool saturated(
      ThreadFactory factory, RejectedExecutionHandler handler, CountDownLatch release)
      throws Exception {
    HookedPool pool = new HookedPool(1, 1, new ArrayBlockingQueue<>(1), factory, handler);
    CountDownLatch busy = new CountDownLatch(1);
    inNewContext(
        () -> {
          NAME.set("first submitter's");
          pool.execute(
              () -> {
                busy.countDown();
                awaitUnchecked(release);
              });
          pool.execute(() -> {}); // fills the queue
        });
    await(busy);
    return pool;
  }

  @ParameterizedTest
  @MethodSource(THREAD_KINDS)
  void rejectionHandler_runsOnTheRejectedCaller_inItsContext_notTheFirstSubmittersNorTheWorkers(
      ThreadFactory factory) throws Exception {
    BlockingQueue<Seen> handled = new LinkedBlockingQueue<>();
    ExecutorService backup = Executors.newSingleThreadExecutor();
    CountDownLatch release = new CountDownLatch(1);
    // A handler that records what it sees and passes the rejected task on to a backup pool.
    RejectedExecutionHandler handler =
        (task, executor) -> {
          handled.add(new Seen("rejectedExecution", Thread.currentThread(), currentMapping()));
          backup.execute(task);
        };
    HookedPool pool = saturated(factory, handler, release);
    try {
      inNewContext(
          () -> {
            NAME.set("rejected caller's");
            AtomicReference<String> seenByTask = new AtomicReference<>();
            CountDownLatch ran = new CountDownLatch(1);
            pool.execute(
                () -> {
                  seenByTask.set(observed());
                  NAME.set("set by the rejected task");
                  ran.countDown();
                });

            Seen seen = take(handled);
            assertThat(seen.thread()).as("the handler runs on the caller").isSameAs(Thread.currentThread());
            assertThat(seen.mapping())
                .as("in the caller's context: not the first submitter's, not the worker's")
                .isEqualTo(Map.of(NAME, "rejected caller's"));
            await(ran);
            assertThat(seenByTask.get())
                .as("the task, passed on by the handler, still carries its submitter's values")
                .isEqualTo("rejected caller's,no counter");
            assertThat(name()).isEqualTo("rejected caller's");
          });
    } finally {
      release.countDown();
      terminate(pool);
      terminate(backup);
    }
  }

  @ParameterizedTest
  @MethodSource(THREAD_KINDS)
  void callerRunsPolicy_runsTheRejectedTaskOnTheCaller_inACopy_itsSetsDoNotLeakIntoTheCaller(
      ThreadFactory factory) throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    HookedPool pool = saturated(factory, new ThreadPoolExecutor.CallerRunsPolicy(), release);
    try {
      inNewContext(
          () -> {
            NAME.set("rejected caller's");
            AtomicReference<Thread> ranOn = new AtomicReference<>();
            AtomicReference<String> seenByTask = new AtomicReference<>();
            pool.execute(
                () -> {
                  ranOn.set(Thread.currentThread());
                  seenByTask.set(observed());
                  NAME.set("set by the task");
                  COUNTER.set(1);
                });

            assertThat(ranOn.get()).as("CallerRunsPolicy: on the caller").isSameAs(Thread.currentThread());
            assertThat(seenByTask.get()).isEqualTo("rejected caller's,no counter");
            assertThat(observed())
                .as("the task ran in a copy: its sets stay there, even on the caller's thread")
                .isEqualTo("rejected caller's,no counter");
          });
    } finally {
      release.countDown();
      terminate(pool);
    }
    List<Seen> hooks = new ArrayList<>();
    pool.seen.drainTo(hooks);
    assertThat(hooks)
        .as("the worker's hooks, for the tasks it ran")
        .allSatisfy(s -> assertThat(s.mapping()).as(s.where()).isEmpty());
  }

  @Test
  void scheduledThreadPoolExecutor_workerStartedByTheFirstSchedule_startsEmpty() throws Exception {
    Support.OwnContexts own = new Support.OwnContexts(Thread.ofPlatform().daemon().factory());
    BlockingQueue<Map<ContextVar<?>, Object>> seenByHook = new LinkedBlockingQueue<>();
    ScheduledThreadPoolExecutor pool =
        new ScheduledThreadPoolExecutor(1, own) {
          @Override
          protected void beforeExecute(Thread t, Runnable r) {
            seenByHook.add(currentMapping());
          }
        };
    try {
      inNewContext(
          () -> {
            NAME.set("first scheduler's");
            ScheduledFuture<String> result = pool.schedule(Support::observed, 1, MILLISECONDS);
            assertThat(join(result)).isEqualTo("first scheduler's,no counter");
          });
      assertThat(take(seenByHook)).as("beforeExecute, on the worker").isEmpty();
    } finally {
      terminate(pool);
    }
    assertThat(own.atStart()).hasSize(1).allSatisfy(mapping -> assertThat(mapping).isEmpty());
    assertThat(own.atEnd()).allSatisfy(mapping -> assertThat(mapping).isEmpty());
  }

  @Test
  void forkJoinPool_workersStartedByTheFirstSubmitter_startEmpty() throws Exception {
    Support.OwnForkJoinContexts own = new Support.OwnForkJoinContexts(null);
    ForkJoinPool pool = new ForkJoinPool(2, own, null, false);
    try {
      inNewContext(
          () -> {
            NAME.set("first submitter's");
            assertThat(join(pool.submit(Support::observed)))
                .isEqualTo("first submitter's,no counter");
            assertThat(join(pool.submit(ForkJoinTask.adapt(Support::observed))))
                .as("a ForkJoinTask submitted as one is carried too")
                .isEqualTo("first submitter's,no counter");
          });
    } finally {
      terminate(pool);
    }
    assertThat(own.atStart()).isNotEmpty().allSatisfy(mapping -> assertThat(mapping).isEmpty());
    assertThat(own.atEnd()).allSatisfy(mapping -> assertThat(mapping).isEmpty());
  }

  @Test
  void timer_threadStartedByTheTimersCreator_startsEmpty() throws Exception {
    BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
    AtomicReference<Timer> timer = new AtomicReference<>();
    AtomicReference<String> seenByAPlainThread = new AtomicReference<>();
    inNewContext(
        () -> {
          NAME.set("timer creator's");
          timer.set(new Timer("timer", true)); // starts the timer's thread, here
          // The contrast: a thread this code starts itself does run in a copy of its context.
          Thread plain = new Thread(() -> seenByAPlainThread.set(name()));
          plain.start();
          joinBounded(plain);
        });
    try {
      timer
          .get()
          .schedule(
              new TimerTask() {
                @Override
                public void run() {
                  seen.add(new Seen("timer task", Thread.currentThread(), currentMapping()));
                }
              },
              1);
      Seen task = take(seen);

      assertThat(seenByAPlainThread.get()).isEqualTo("timer creator's");
      assertThat(task.thread().getName()).isEqualTo("timer");
      assertThat(task.mapping())
          .as("the timer's thread holds nothing of its creator's context")
          .isEmpty();
    } finally {
      timer.get().cancel();
    }
  }

  /* ---- ForkJoinPool's delay scheduler (JDK 25) ---- */

  @Test
  void forkJoinPool_delaySchedulerThread_startedByTheFirstSchedulingCaller_startsEmpty()
      throws Throwable {
    ForkJoinPool pool = new ForkJoinPool(1);
    try {
      // ForkJoinPool implements ScheduledExecutorService since JDK 25 (the build targets 21).
      ScheduledExecutorService scheduler = (ScheduledExecutorService) (Object) pool;
      inNewContext(
          () -> {
            NAME.set("first scheduler's");
            // The first delayed task starts the pool's delay-scheduler thread, on this thread.
            join(scheduler.schedule(() -> "done", 1, MILLISECONDS));
            assertThat(join(pool.submit(Support::name))).isEqualTo("first scheduler's");
          });

      // A timeout action runs on the delay-scheduler thread itself.
      BlockingQueue<Map<ContextVar<?>, Object>> seenByTimeoutAction = new LinkedBlockingQueue<>();
      CountDownLatch release = new CountDownLatch(1);
      Consumer<ForkJoinTask<String>> onTimeout =
          task -> {
            Map<ContextVar<?>, Object> mapping = currentMapping();
            // Completed before the test can release the slow task: it cannot win the race.
            task.complete("timed out");
            seenByTimeoutAction.add(mapping);
          };
      Callable<String> slow =
          () -> {
            awaitUnchecked(release);
            return "slow";
          };
      var submitWithTimeout =
          MethodHandles.publicLookup()
              .findVirtual(
                  ForkJoinPool.class,
                  "submitWithTimeout",
                  MethodType.methodType(
                      ForkJoinTask.class,
                      Callable.class,
                      long.class,
                      TimeUnit.class,
                      Consumer.class));
      // The pool's one worker is kept busy until the timeout action has run, so that the slow
      // task is still queued when it times out: a task that had started would overwrite the
      // timeout's result with its own when it ends, a race the JDK leaves to the caller.
      CountDownLatch workerBusy = new CountDownLatch(1);
      ForkJoinTask<?> blocker =
          pool.submit(
              () -> {
                workerBusy.countDown();
                awaitUnchecked(release);
              });
      await(workerBusy);
      @SuppressWarnings("unchecked")
      ForkJoinTask<String> task =
          (ForkJoinTask<String>)
              submitWithTimeout.invoke(pool, slow, 1L, MILLISECONDS, onTimeout);
      Map<ContextVar<?>, Object> seen = take(seenByTimeoutAction);
      release.countDown();
      join(blocker);
      assertThat(join(task)).isEqualTo("timed out");

      assertThat(seen)
          .as("the delay-scheduler thread's own context: the first scheduler's values must not be"
              + " there")
          .doesNotContainKey(NAME);
    } finally {
      terminate(pool);
    }
  }

  @Test
  void forkJoinPool_delaySchedulerThread_doesNotKeepTheFirstSchedulersValuesReachable()
      throws Exception {
    ForkJoinPool pool = new ForkJoinPool(1);
    ReferenceQueue<Object> queue = new ReferenceQueue<>();
    List<WeakReference<Object>> ref = new ArrayList<>();
    ContextVar<Object> big = ContextVar.named("big");
    try {
      ScheduledExecutorService scheduler = (ScheduledExecutorService) (Object) pool;
      new Context()
          .call(
              () -> {
                Object value = new Object();
                ref.add(new WeakReference<>(value, queue));
                big.set(value);
                // Starts the pool's delay-scheduler thread, which lives as long as the pool.
                join(scheduler.schedule(() -> "done", 1, MILLISECONDS));
                assertThat(join(pool.submit(() -> big.getOrDefault(null))))
                    .as("a task carries the value")
                    .isSameAs(value);
                return null;
              });

      assertThat(collected(ref.get(0), queue))
          .as("nothing holds the first scheduler's value while the pool lives on")
          .isTrue();
    } finally {
      terminate(pool);
    }
  }

  @Test
  void cleanerThread_startedByTheCleanersCreator_doesNotRunActionsInItsContext()
      throws Exception {
    AtomicReference<Cleaner> cleaner = new AtomicReference<>();
    AtomicReference<String> seenByAPlainThread = new AtomicReference<>();
    inNewContext(
        () -> {
          NAME.set("cleaner creator's");
          cleaner.set(Cleaner.create()); // starts the cleaner's own (innocuous) thread, here
          Thread plain = new Thread(() -> seenByAPlainThread.set(name()));
          plain.start();
          joinBounded(plain);
        });
    BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
    inNewContext(
        () -> {
          NAME.set("registrant's");
          cleaner
              .get()
              .register(
                  new Object(), // unreachable at once
                  () -> seen.add(new Seen("cleaning action", Thread.currentThread(), currentMapping())));
        });
    Seen action = null;
    for (int attempt = 0; attempt < 50 && action == null; attempt++) {
      System.gc();
      action = seen.poll(100, MILLISECONDS);
    }

    assertThat(seenByAPlainThread.get()).isEqualTo("cleaner creator's");
    assertThat(action).as("the cleaning action ran").isNotNull();
    assertThat(action.mapping())
        .as("the cleaner's thread, a JDK service thread, must not run every action in the"
            + " context of whoever happened to create the cleaner")
        .doesNotContainEntry(NAME, "cleaner creator's");
  }

  @Test
  void delayedExecutor_taskRunsInACopyOfTheCallersContext() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      inNewContext(
          () -> {
            NAME.set("caller's");
            CompletableFuture<String> seen = new CompletableFuture<>();
            CompletableFuture.delayedExecutor(1, MILLISECONDS, pool)
                .execute(() -> seen.complete(observed()));

            assertThat(join(seen)).isEqualTo("caller's,no counter");
          });
    } finally {
      terminate(pool);
    }
  }

  @Test
  void forkJoinPool_schedule_taskRunsInACopyOfTheSchedulersContext() throws Exception {
    ForkJoinPool pool = new ForkJoinPool(1);
    try {
      ScheduledExecutorService scheduler = (ScheduledExecutorService) (Object) pool;
      inNewContext(
          () -> {
            NAME.set("scheduler's");
            assertThat(join(scheduler.schedule(Support::observed, 1, MILLISECONDS)))
                .isEqualTo("scheduler's,no counter");
          });
    } finally {
      terminate(pool);
    }
  }

  @Test
  void shutdownPool_rejectsAsTheJdkDoes_andTheHandlerSeesTheCallersContext() throws Exception {
    BlockingQueue<Seen> handled = new LinkedBlockingQueue<>();
    HookedPool pool =
        new HookedPool(
            1,
            1,
            new LinkedBlockingQueue<>(),
            Thread.ofPlatform().daemon().factory(),
            (task, executor) -> {
              handled.add(new Seen("rejectedExecution", Thread.currentThread(), currentMapping()));
              throw new RejectedExecutionException("shut down");
            });
    inNewContext(
        () -> {
          NAME.set("earlier submitter's");
          assertThat(join(pool.submit(Support::name))).isEqualTo("earlier submitter's");
        });
    terminate(pool);
    inNewContext(
        () -> {
          NAME.set("late caller's");
          assertThatThrownBy(() -> pool.execute(() -> {}))
              .isInstanceOf(RejectedExecutionException.class)
              .hasMessage("shut down");
        });
    assertThat(take(handled).mapping()).isEqualTo(Map.of(NAME, "late caller's"));
  }
}
