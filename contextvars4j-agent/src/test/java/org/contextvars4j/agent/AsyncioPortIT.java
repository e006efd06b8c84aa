package org.contextvars4j.agent;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.contextvars4j.agent.Support.THREAD_KINDS;
import static org.contextvars4j.agent.Support.TIMEOUT_SECONDS;
import static org.contextvars4j.agent.Support.awaitUnchecked;
import static org.contextvars4j.agent.Support.join;
import static org.contextvars4j.agent.Support.terminate;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Ports of asyncio's context tests, {@code test_context_1} to {@code test_context_6} of CPython's
 * {@code Lib/test/test_asyncio/test_tasks.py}, to the raw JDK under the agent: no helper of this
 * library hands anything over, the JDK's own executors, futures and threads do.
 *
 * <h2>The mapping</h2>
 *
 * <table class="striped">
 *   <caption>asyncio to the raw JDK under the agent</caption>
 *   <tr><th>asyncio</th><th>here</th></tr>
 *   <tr><td>the event loop</td>
 *       <td>a plain {@code ExecutorService}: a fixed pool of platform threads, of virtual threads,
 *       or a virtual thread per task; for {@code test_context_3}'s interleaving, a single-thread
 *       pool</td></tr>
 *   <tr><td>{@code loop.run_until_complete(new_task(main()))}</td>
 *       <td>{@code loop.submit(main)} from the test thread, then a bounded wait: the task runs in a
 *       copy of the test thread's context, as a Task copies the context at its creation (the
 *       ports check it with a variable the test thread binds, {@link #OUTER})</td></tr>
 *   <tr><td>a task, {@code create_task(coro)}</td>
 *       <td>{@code loop.submit(coro)}, {@code CompletableFuture.supplyAsync(coro, loop)}, or a
 *       {@code Thread} started with {@code coro}: each runs in a copy of the creator's context as
 *       of the creation</td></tr>
 *   <tr><td>a task with {@code context=ctx}</td>
 *       <td>a task of the above whose body is {@code ctx.wrap(coro)} or {@code ctx.run(coro)}: it
 *       enters that very context object</td></tr>
 *   <tr><td>{@code fut.add_done_callback(cb)}</td>
 *       <td>a dependent stage of a plain {@code CompletableFuture}: it runs in a copy of the
 *       context where it was attached</td></tr>
 *   <tr><td>{@code loop.call_soon(cb)}</td><td>{@code loop.execute(cb)}</td></tr>
 *   <tr><td>{@code await asyncio.sleep(...)} (a point where others run)</td>
 *       <td>a latch, a round trip through the loop, a {@code Thread.yield()}, or seeded
 *       re-queuing through the loop: never a sleep</td></tr>
 * </table>
 *
 * <p>An asyncio task is one coroutine whose steps all run in the task's one context. Its Java
 * analogue is either one blocking task (the steps are consecutive code on one thread), or, to keep
 * asyncio's interleaving of many tasks on one loop thread, a chain of steps each handed to the loop
 * by the step before it with a plain {@code loop.execute(next)}: the agent hands each step a copy
 * of the context the previous step left, which is what a task's next step sees in asyncio.
 */
final class AsyncioPortIT {

  /** The seed of every random choice in this class: {@code -Dcv4j.seed}, else the clock. */
  private static final long SEED = Long.getLong("cv4j.seed", System.nanoTime());

  /** Bound by the test thread: a Task created there copies it (asyncio's copy at creation). */
  private static final ContextVar<String> OUTER = ContextVar.named("outer");

  @BeforeAll
  static void printSeed() {
    System.out.printf("AsyncioPortIT: seed %d (replay with -Dcv4j.seed=%d)%n", SEED, SEED);
  }

  @AfterEach
  void testThreadLeftInAnEmptyContext() {
    assertThat(Context.copyCurrent().size())
        .as("the test left no value in the test thread's context")
        .isZero();
  }

  /** {@return event loops: pools of platform and of virtual threads, and a thread per task} */
  static Stream<Named<Supplier<ExecutorService>>> loops() {
    return Stream.of(
        Named.of(
            "platform pool",
            () -> Executors.newFixedThreadPool(4, Thread.ofPlatform().daemon().factory())),
        Named.of("virtual pool", () -> Executors.newFixedThreadPool(4, Thread.ofVirtual().factory())),
        Named.of("virtual thread per task", Executors::newVirtualThreadPerTaskExecutor));
  }

  /**
   * {@code loop.run_until_complete(new_task(main()))}, from a test thread whose context binds
   * {@link #OUTER}: {@code main} runs as a task on {@code loop}.
   */
  static <T> T runUntilComplete(ExecutorService loop, Callable<T> main) throws Exception {
    return new Context()
        .call(
            () -> {
              OUTER.set("the test's");
              return join(loop.submit(main));
            });
  }

  /* ---- test_context_1 ---- */

  /** How a task is created on the loop. */
  enum CreateTask {
    /** {@code loop.submit(coro)}. */
    EXECUTOR_SUBMIT {
      @Override
      Future<?> create(ExecutorService loop, Runnable coro) {
        return loop.submit(coro);
      }
    },
    /** {@code CompletableFuture.supplyAsync(coro, loop)}. */
    COMPLETABLE_FUTURE_SUPPLY_ASYNC {
      @Override
      Future<?> create(ExecutorService loop, Runnable coro) {
        return CompletableFuture.supplyAsync(
            () -> {
              coro.run();
              return "done";
            },
            loop);
      }
    },
    /** A virtual thread running {@code coro}. */
    THREAD_START {
      @Override
      Future<?> create(ExecutorService loop, Runnable coro) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    coro.run();
                    done.complete(null);
                  } catch (Throwable failure) {
                    done.completeExceptionally(failure);
                  }
                });
        return done;
      }
    };

    abstract Future<?> create(ExecutorService loop, Runnable coro);
  }

  static Stream<Arguments> loopsAndCreations() {
    return loops()
        .flatMap(loop -> Stream.of(CreateTask.values()).map(way -> Arguments.of(loop, way)));
  }

  /**
   * Port of {@code test_context_1}: a subtask sees the context at its creation, not a set its
   * creator makes afterwards, and its own set does not reach its creator. Beyond the original:
   * both tasks see the value the test thread bound ({@code main} copied it at its creation, the
   * subtask copied {@code main}'s).
   */
  @ParameterizedTest(name = "{0}, {1}")
  @MethodSource("loopsAndCreations")
  void context1_subtaskSeesTheContextAtItsCreation_itsSetDoesNotReachTheCreator(
      Supplier<ExecutorService> loops, CreateTask createTask) throws Exception {
    ContextVar<String> cvar = ContextVar.named("cvar", "nope");
    try (ExecutorService loop = loops.get()) {
      // Stands for sub's "await asyncio.sleep(0.01)", by which main has set 'yes'.
      CountDownLatch mainHasSet = new CountDownLatch(1);
      runUntilComplete(
          loop,
          () -> {
            assertThat(cvar.get()).isEqualTo("nope");
            assertThat(OUTER.get()).as("main copied the test thread's context").isEqualTo("the test's");
            Future<?> subtask =
                createTask.create(
                    loop,
                    () -> {
                      awaitUnchecked(mainHasSet);
                      assertThat(cvar.get()).isEqualTo("nope");
                      assertThat(OUTER.get()).isEqualTo("the test's");
                      cvar.set("something else");
                    });
            cvar.set("yes");
            assertThat(cvar.get()).isEqualTo("yes");
            mainHasSet.countDown();
            join(subtask);
            assertThat(cvar.get()).isEqualTo("yes");
            return null;
          });
    }
  }

  /* ---- test_context_2 ---- */

  /**
   * Port of {@code test_context_2}: a done callback runs in a copy of the context at its
   * registration and cannot pollute the task's; the task keeps its values across its awaits.
   * Beyond the original: what each callback saw is checked (the value at registration: {@code
   * nope}, then {@code yes2-0}).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("loops")
  void context2_doneCallbackRunsInACopyOfTheContextAtRegistration_taskUnpolluted(
      Supplier<ExecutorService> loops) throws Exception {
    ContextVar<String> cvar = ContextVar.named("cvar", "nope");
    try (ExecutorService loop = loops.get()) {
      List<String> seenByCallbacks = Collections.synchronizedList(new ArrayList<>());
      runUntilComplete(
          loop,
          () -> {
            assertThat(cvar.get()).isEqualTo("nope");
            List<CompletableFuture<Void>> callbacks = new ArrayList<>();
            for (int j = 0; j < 2; j++) {
              CompletableFuture<Void> fut = new CompletableFuture<>(); // loop.create_future()
              // fut.add_done_callback(fut_on_done): this change must not pollute main's context.
              callbacks.add(
                  fut.thenRun(
                      () -> {
                        seenByCallbacks.add(cvar.get());
                        cvar.set("something else");
                      }));
              cvar.set("yes" + j);
              loop.execute(() -> fut.complete(null)); // loop.call_soon(fut.set_result, None)
              join(fut); // await fut
              assertThat(cvar.get()).isEqualTo("yes" + j);

              for (int i = 0; i < 3; i++) {
                // Test that the task passed its context to the callback, and kept its own.
                cvar.set("yes" + i + "-" + j);
                join(loop.submit(() -> {})); // await asyncio.sleep(0.001): the loop runs others
                assertThat(cvar.get()).isEqualTo("yes" + i + "-" + j);
              }
            }
            for (CompletableFuture<Void> callback : callbacks) {
              join(callback);
            }
            return null;
          });
      assertThat(seenByCallbacks)
          .as("each callback saw the value at its registration")
          .containsExactly("nope", "yes2-0");
    }
    assertThat(cvar.get()).isEqualTo("nope");
  }

  /* ---- test_context_3 ---- */

  /**
   * Port of {@code test_context_3}, keeping asyncio's model: 100 tasks interleaved on <i>one</i>
   * loop thread. Each task is a chain of ten steps; a step sets the variable, then "sleeps": it
   * hands the next step to the loop with a plain {@code loop.execute}, through a seeded random
   * number of unrelated turns of the loop, so that the other tasks' steps run on the same thread
   * in between. Only the agent carries each task's value from one step to the next.
   */
  @ParameterizedTest
  @MethodSource(THREAD_KINDS)
  void context3_hundredSteppedTasksInterleavedOnOneLoopThread_eachKeepsItsOwnValues(
      ThreadFactory factory) throws Exception {
    ContextVar<Integer> cvar = ContextVar.named("cvar", -1);
    ExecutorService loop = Executors.newSingleThreadExecutor(factory);
    try {
      SplittableRandom random = new SplittableRandom(SEED);
      Queue<String> failures = new ConcurrentLinkedQueue<>();
      List<CompletableFuture<Void>> tasks = new ArrayList<>();
      // main(): creates the tasks on the loop thread, then gathers them.
      runUntilComplete(
          loop,
          () -> {
            for (int t = 0; t < 100; t++) {
              SteppedTask task =
                  new SteppedTask(loop, random.split(), cvar, random.nextInt(0, 11), t, failures);
              tasks.add(task.done);
              loop.execute(() -> task.step(0)); // loop.create_task(sub(num))
            }
            return null;
          });
      CompletableFuture.allOf(tasks.toArray(CompletableFuture[]::new))
          .get(TIMEOUT_SECONDS, SECONDS); // asyncio.gather(*tasks)

      assertThat(failures).as("seed %d", SEED).isEmpty();
      assertThat(cvar.get()).isEqualTo(-1);
    } finally {
      terminate(loop);
    }
  }

  /** {@code async def sub(num)}: ten steps, each checking the value the step before set. */
  static final class SteppedTask {
    private final ExecutorService loop;
    private final SplittableRandom random;
    private final ContextVar<Integer> cvar;
    private final int num;
    private final int id;
    private final Queue<String> failures;

    final CompletableFuture<Void> done = new CompletableFuture<>();

    SteppedTask(
        ExecutorService loop,
        SplittableRandom random,
        ContextVar<Integer> cvar,
        int num,
        int id,
        Queue<String> failures) {
      this.loop = loop;
      this.random = random;
      this.cvar = cvar;
      this.num = num;
      this.id = id;
      this.failures = failures;
    }

    /** Step {@code i}: after the sleep of step {@code i - 1}, check; then set and sleep. */
    void step(int i) {
      int expected = i == 0 ? -1 : num + i - 1;
      if (cvar.get() != expected || !"the test's".equals(OUTER.getOrDefault(null))) {
        failures.add(
            String.format(
                "task %d step %d: cvar %d outer %s, expected %d (seed %d)",
                id, i, cvar.get(), OUTER.getOrDefault(null), expected, SEED));
      }
      if (i == 10) {
        done.complete(null);
        return;
      }
      cvar.set(num + i);
      // await asyncio.sleep(random.uniform(0.001, 0.05)): others run meanwhile.
      hop(random.nextInt(0, 4), () -> step(i + 1));
    }

    /** Queues {@code next} after {@code hops} unrelated turns of the loop. */
    private void hop(int hops, Runnable next) {
      if (hops == 0) {
        loop.execute(next);
      } else {
        loop.execute(() -> hop(hops - 1, next));
      }
    }
  }

  /**
   * Port of {@code test_context_3} with threads in place of interleaving: 100 tasks on a pool,
   * each starting from {@code main}'s context (the variable unset: {@code -1}), setting its value
   * ten times with seeded random yields in between, checking it each time; {@code gather} is
   * {@code invokeAll}.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("loops")
  void context3_hundredTasksOnAPool_eachKeepsItsOwnValues(Supplier<ExecutorService> loops)
      throws Exception {
    ContextVar<Integer> cvar = ContextVar.named("cvar", -1);
    SplittableRandom random = new SplittableRandom(SEED);
    try (ExecutorService loop = loops.get()) {
      List<String> results =
          runUntilComplete(
              loop,
              () -> {
                List<Callable<String>> tasks = new ArrayList<>();
                for (int t = 0; t < 100; t++) {
                  int num = random.nextInt(0, 11);
                  SplittableRandom own = random.split();
                  int id = t;
                  tasks.add(
                      () -> {
                        if (cvar.get() != -1 || !"the test's".equals(OUTER.getOrDefault(null))) {
                          return String.format(
                              "task %d started with cvar %d outer %s (seed %d)",
                              id, cvar.get(), OUTER.getOrDefault(null), SEED);
                        }
                        for (int i = 0; i < 10; i++) {
                          cvar.set(num + i);
                          for (int y = own.nextInt(0, 20); y > 0; y--) {
                            Thread.yield(); // await asyncio.sleep(random): others run meanwhile
                          }
                          if (cvar.get() != num + i) {
                            return String.format(
                                "task %d step %d: cvar %d (seed %d)", id, i, cvar.get(), SEED);
                          }
                        }
                        return "ok";
                      });
                }
                // asyncio.gather(*tasks): main waits on the loop for the others, which do not
                // wait for each other.
                List<String> outcomes = new ArrayList<>();
                for (Future<String> result : loop.invokeAll(tasks, TIMEOUT_SECONDS, SECONDS)) {
                  outcomes.add(join(result));
                }
                return outcomes;
              });

      assertThat(results).as("seed %d", SEED).hasSize(100).containsOnly("ok");
    }
    assertThat(cvar.get()).isEqualTo(-1);
  }

  /* ---- test_context_4, _5, _6: a task with context=ctx ---- */

  /** How a task with {@code context=ctx} is created on the loop. */
  enum CreateTaskInContext {
    /** test_context_4: {@code Task(coro, loop=loop, context=ctx)}: a submitted callable. */
    SUBMIT_CTX_WRAP_CALLABLE {
      @Override
      Future<?> create(ExecutorService loop, Context ctx, Runnable coro) {
        return loop.submit(
            ctx.wrap(
                () -> {
                  coro.run();
                  return null;
                }));
      }
    },
    /** test_context_5: {@code asyncio.create_task(coro, context=ctx)}: a CompletableFuture. */
    COMPLETABLE_FUTURE_RUN_ASYNC_CTX_WRAP {
      @Override
      Future<?> create(ExecutorService loop, Context ctx, Runnable coro) {
        return CompletableFuture.runAsync(ctx.wrap(coro), loop);
      }
    },
    /** test_context_6: {@code loop.create_task(coro, context=ctx)}: loop.execute, ctx.run. */
    EXECUTE_CTX_RUN {
      @Override
      Future<?> create(ExecutorService loop, Context ctx, Runnable coro) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.execute(
            () -> {
              try {
                ctx.run(coro);
                done.complete(null); // after ctx was exited: the next task may enter it
              } catch (Throwable failure) {
                done.completeExceptionally(failure);
              }
            });
        return done;
      }
    },
    /** test_context_6 again, with a thread given the context. */
    THREAD_CTX_WRAP {
      @Override
      Future<?> create(ExecutorService loop, Context ctx, Runnable coro) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Runnable inCtx = ctx.wrap(coro);
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    inCtx.run();
                    done.complete(null);
                  } catch (Throwable failure) {
                    done.completeExceptionally(failure);
                  }
                });
        return done;
      }
    };

    abstract Future<?> create(ExecutorService loop, Context ctx, Runnable coro);
  }

  static Stream<Arguments> loopsAndCreationsInContext() {
    return loops()
        .flatMap(
            loop -> Stream.of(CreateTaskInContext.values()).map(way -> Arguments.of(loop, way)));
  }

  /**
   * Port of {@code test_context_4}, {@code test_context_5} and {@code test_context_6} (one way per
   * test a task gets {@code context=ctx}; each way is tried on each loop): tasks given one context
   * run in that very context object, one after the other, and their sets are recorded in it:
   * {@code [None, 1, 2]}. Beyond the original: {@code ctx = copy_context()} in {@code main} holds
   * what {@code main} copied from the test thread, and the tasks see it.
   */
  @ParameterizedTest(name = "{0}, {1}")
  @MethodSource("loopsAndCreationsInContext")
  void context456_tasksGivenAContext_runInThatContextObject_theirSetsAreRecordedInIt(
      Supplier<ExecutorService> loops, CreateTaskInContext createTask) throws Exception {
    ContextVar<Integer> cvar = ContextVar.named("cvar");
    List<String> seenOuter = Collections.synchronizedList(new ArrayList<>());
    try (ExecutorService loop = loops.get()) {
      List<Integer> ret =
          runUntilComplete(
              loop,
              () -> {
                List<Integer> values = new ArrayList<>();
                Context ctx = Context.copyCurrent();
                assertThat(ctx.asMap())
                    .as("main's context is a copy of the test thread's")
                    .isEqualTo(Map.of(OUTER, "the test's"));
                values.add(ctx.getOrDefault(cvar, null));
                for (int val = 1; val <= 2; val++) {
                  int v = val;
                  Future<?> task =
                      createTask.create(
                          loop,
                          ctx,
                          () -> {
                            Thread.yield(); // await asyncio.sleep(0)
                            seenOuter.add(OUTER.get());
                            cvar.set(v);
                          });
                  join(task);
                  values.add(ctx.getOrDefault(cvar, null));
                }
                assertThat(cvar.isBound()).as("main's own context is not ctx").isFalse();
                return values;
              });

      assertThat(ret).containsExactly(null, 1, 2);
      assertThat(seenOuter).containsExactly("the test's", "the test's");
    }
  }
}
