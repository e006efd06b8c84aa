package org.contextvars4j.agent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.MICROSECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.contextvars4j.agent.Support.THREAD_KINDS;
import static org.contextvars4j.agent.Support.TIMEOUT_SECONDS;
import static org.contextvars4j.agent.Support.collected;
import static org.contextvars4j.agent.Support.join;
import static org.contextvars4j.agent.Support.terminate;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Ports of uvloop's context tests ({@code tests/test_context.py} of MagicStack/uvloop) to the raw
 * JDK under the agent: no helper of this library hands anything over, the JDK's own executor,
 * futures and processes do.
 *
 * <p>uvloop runs every callback and every step of every task on <i>one</i> thread, the loop's; the
 * ports keep that model: the loop is a {@code ScheduledThreadPoolExecutor} with a single thread
 * (platform or virtual), and a task is a chain of steps on it. Without the agent every step would
 * run in the loop thread's own context, which all tasks would then share; each port checks a value
 * that this sharing changes.
 *
 * <h2>The mapping</h2>
 *
 * <table class="striped">
 *   <caption>uvloop to the raw JDK under the agent</caption>
 *   <tr><th>uvloop</th><th>here</th></tr>
 *   <tr><td>the event loop</td>
 *       <td>{@link Loop}: a {@code ScheduledThreadPoolExecutor} with one thread</td></tr>
 *   <tr><td>{@code loop.call_soon(cb)}</td><td>{@code executor.execute(cb)}</td></tr>
 *   <tr><td>{@code loop.call_soon(cb, context=ctx)}</td>
 *       <td>{@code executor.execute(ctx.wrap(cb))}</td></tr>
 *   <tr><td>{@code loop.call_later(delay, cb)}</td>
 *       <td>{@code executor.schedule(cb, delay, unit)}</td></tr>
 *   <tr><td>{@code await asyncio.sleep(delay)}</td>
 *       <td>{@link Loop#sleep}: a future that a {@code schedule}d callback completes, and the rest
 *       of the task as a dependent stage of it. Under the agent the ports hold whatever order the
 *       loop runs the callbacks in; the interleaving that would break them without the agent
 *       follows from the order in which callbacks are queued, not from the lengths of the
 *       delays</td></tr>
 *   <tr><td>{@code loop.create_task(coro())}</td>
 *       <td>{@link Loop#createTask}: {@code CompletableFuture.supplyAsync(firstStep, executor)}
 *       composed with the stage the first step returns; or {@code executor.execute(firstStep)}
 *       ({@link CreateTask})</td></tr>
 *   <tr><td>{@code await task}, {@code await fut}</td>
 *       <td>the rest of the awaiting task as a dependent stage of the awaited future, attached
 *       where the task awaits: it runs in a copy of the context the task had there, which is what
 *       the task's next step sees in uvloop</td></tr>
 *   <tr><td>{@code fut.add_done_callback(cb)}</td>
 *       <td>a dependent stage of a plain {@code CompletableFuture}</td></tr>
 *   <tr><td>{@code asyncio.gather(*tasks)}</td>
 *       <td>{@code CompletableFuture.allOf}, {@code thenCombine}</td></tr>
 *   <tr><td>{@code loop.run_until_complete(main())}</td>
 *       <td>{@link Loop#runUntilComplete}: {@code main} created as a task from the test thread,
 *       whose context binds {@link #OUTER}, then a bounded wait; every task must see
 *       {@link #OUTER} (beyond the originals)</td></tr>
 *   <tr><td>{@code decimal.localcontext()}</td>
 *       <td>a {@code ContextVar<MathContext>}, {@link #DECIMAL}</td></tr>
 * </table>
 *
 * <p>An asyncio task runs all its steps in one {@code Context} object; here each step runs in a
 * copy of the context the step before left, so a value set before an await is seen after it, but a
 * {@code Token} taken before an await cannot {@code reset} after it (it belongs to the earlier
 * copy). The decimal port restores the saved value with a {@code set}, as {@code localcontext()}
 * does.
 *
 * <h2>The tests of uvloop's that are ported</h2>
 *
 * <ul>
 *   <li>{@code test_task_decimal_context}, {@code test_task_context_1} to {@code _4}: each below.
 *   <li>{@code test_subprocess_protocol}, in part: what the JDK calls back about a process, its
 *       exit ({@code Process.onExit()}), and the readers of its pipes, which are tasks the test
 *       starts itself; see {@link
 *       #subprocessProtocol_exitAndPipeCallbacksSeeTheContextOfTheSpawner}.
 * </ul>
 *
 * <h2>The tests of uvloop's that are not, and why</h2>
 *
 * <ul>
 *   <li>The transport and protocol tests: {@code test_create_server_protocol_factory_context},
 *       {@code test_create_server_connection_protocol}, {@code
 *       test_create_ssl_server_connection_protocol}, {@code
 *       test_create_server_manual_connection_lost}, {@code
 *       test_create_ssl_server_manual_connection_lost}, {@code test_create_connection_protocol},
 *       {@code test_start_tls}, {@code test_connect_accepted_socket} and {@code
 *       test_datagram_protocol}. They check that a protocol's callbacks ({@code connection_made},
 *       {@code data_received}, {@code eof_received}, {@code pause_writing}, {@code
 *       connection_lost}, ...) run in the context of the call that made the server, connection or
 *       endpoint. The JDK has no protocol or transport: its sockets and datagram channels are read
 *       by the caller (blocking, or through a {@code Selector} loop the application writes), and
 *       the one callback interface it has for sockets, NIO.2's {@code CompletionHandler} of {@code
 *       AsynchronousSocketChannel} and {@code AsynchronousServerSocketChannel}, is not among what
 *       the agent instruments (executors, {@code CompletableFuture}, {@code Timer}, threads). A
 *       handler runs in the context of the channel group's thread, never in the caller's: an empty
 *       one for the default group; under the agent, for a group of {@code
 *       AsynchronousChannelGroup.withFixedThreadPool}, a copy of the context of the code that made
 *       the group (the group's event loop is a task handed to its pool then), for the group's whole
 *       life, and what one handler sets the next handler on that thread sees. No port of uvloop's
 *       expectation (the caller's values) could pass under the agent. SSL ({@code SSLEngine},
 *       {@code SSLSocket}) and {@code start_tls} have no callbacks at all. {@code
 *       pause_reading}/{@code resume_reading} and write-buffer limits have no JDK counterpart.
 *   <li>{@code test_subprocess_protocol}'s {@code connection_made}: {@code ProcessBuilder.start()}
 *       returns the process, it calls nothing back.
 *   <li>{@code test_context_arg} (in uvloop's versions for Python before 3.7: {@code context=}
 *       raises {@code NotImplementedError}): there is no Java without contexts.
 *   <li>{@code tests/test_base.py}: none of its tests is about contexts ({@code context=} of {@code
 *       call_soon}/{@code call_later} is tested only through the tasks above); the "context" there
 *       is the exception handler's dictionary.
 * </ul>
 *
 * <p>Nothing here sleeps to synchronise: the delays given to {@code schedule} are the ports of
 * uvloop's sleeps (shortened), and every wait is bounded. Random choices come from a seed, printed
 * when the class starts; {@code -Dcv4j.seed=N} replays them.
 */
final class UvloopPortIT {

  /** The seed of every random choice in this class: {@code -Dcv4j.seed}, else the clock. */
  private static final long SEED = Long.getLong("cv4j.seed", System.nanoTime());

  /** Bound by the test thread: a task created there copies it. */
  private static final ContextVar<String> OUTER = ContextVar.named("outer");

  /** Python's decimal context: the precision of the divisions of the current context. */
  private static final ContextVar<MathContext> DECIMAL =
      ContextVar.named("decimal", new MathContext(28));

  @BeforeAll
  static void printSeed() {
    System.out.printf("UvloopPortIT: seed %d (replay with -Dcv4j.seed=%d)%n", SEED, SEED);
  }

  @AfterEach
  void testThreadLeftInAnEmptyContext() {
    assertThat(Context.copyCurrent().size())
        .as("the test left no value in the test thread's context")
        .isZero();
  }

  /**
   * uvloop's loop: one thread runs every callback, in the order the queue gives them. The agent
   * hands each callback a copy of the context current where it was queued.
   */
  static final class Loop implements AutoCloseable {
    private final ScheduledThreadPoolExecutor executor;

    Loop(ThreadFactory factory) {
      executor = new ScheduledThreadPoolExecutor(1, factory);
    }

    /** {@code loop.call_soon(cb)}. */
    void callSoon(Runnable callback) {
      executor.execute(callback);
    }

    /** {@code loop.call_later(delay, cb)}. */
    ScheduledFuture<?> callLater(long delayMicros, Runnable callback) {
      return executor.schedule(callback, delayMicros, MICROSECONDS);
    }

    /** {@return how many callbacks the loop's queue holds, cancelled ones included} */
    int queued() {
      return executor.getQueue().size();
    }

    /** {@code asyncio.sleep(delay)}: a future the loop completes after the delay. */
    CompletableFuture<Void> sleep(long delayMicros) {
      CompletableFuture<Void> slept = new CompletableFuture<>();
      callLater(delayMicros, () -> slept.complete(null));
      return slept;
    }

    /**
     * {@code loop.create_task(coro())}: the coroutine's first step runs on the loop, in a copy of
     * the creator's context as of now; the task is done when the stage the step returns is.
     */
    <T> CompletableFuture<T> createTask(Supplier<? extends CompletionStage<T>> coro) {
      return CompletableFuture.supplyAsync(coro, executor).thenCompose(Function.identity());
    }

    /**
     * {@code loop.run_until_complete(main())}, from the test thread in a context that binds {@link
     * #OUTER}; waits (bounded) for {@code main}'s result.
     */
    <T> T runUntilComplete(Supplier<? extends CompletionStage<T>> main) throws Exception {
      return new Context()
          .call(
              () -> {
                OUTER.set("the test's");
                return join(createTask(main));
              });
    }

    /** Shuts the loop down and waits (bounded) until its thread has ended. */
    @Override
    public void close() {
      try {
        terminate(executor);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }

  /** How a task is created on the loop. */
  enum CreateTask {
    /** {@code CompletableFuture.supplyAsync(firstStep, executor)}: {@link Loop#createTask}. */
    SUPPLY_ASYNC {
      @Override
      <T> CompletableFuture<T> create(Loop loop, Supplier<? extends CompletionStage<T>> coro) {
        return loop.createTask(coro);
      }
    },
    /** {@code executor.execute(firstStep)}: asyncio's Task queues its first step with call_soon. */
    CALL_SOON {
      @Override
      <T> CompletableFuture<T> create(Loop loop, Supplier<? extends CompletionStage<T>> coro) {
        CompletableFuture<T> done = new CompletableFuture<>();
        loop.callSoon(
            () -> {
              try {
                coro.get()
                    .whenComplete(
                        (result, failure) -> {
                          if (failure == null) {
                            done.complete(result);
                          } else {
                            done.completeExceptionally(failure);
                          }
                        });
              } catch (Throwable failure) {
                done.completeExceptionally(failure);
              }
            });
        return done;
      }
    };

    abstract <T> CompletableFuture<T> create(
        Loop loop, Supplier<? extends CompletionStage<T>> coro);
  }

  static Stream<Arguments> loopThreadsAndCreations() {
    return Support.threadKinds()
        .flatMap(kind -> Stream.of(CreateTask.values()).map(way -> Arguments.of(kind, way)));
  }

  /* ---- test_task_decimal_context ---- */

  /**
   * {@code async def fractions(t, precision, x, y)}: in a local decimal context of {@code
   * precision}, divides, sleeps {@code t}, divides again, and leaves the local context.
   */
  static CompletionStage<List<BigDecimal>> fractions(
      Loop loop, long delayMicros, int precision, int x, int y) {
    MathContext saved = DECIMAL.get(); // with decimal.localcontext() as ctx:
    DECIMAL.set(new MathContext(precision, saved.getRoundingMode())); //   ctx.prec = precision
    BigDecimal a = BigDecimal.valueOf(x).divide(BigDecimal.valueOf(y), DECIMAL.get());
    return loop.sleep(delayMicros) // await asyncio.sleep(t)
        .thenApply(
            slept -> {
              BigDecimal b =
                  BigDecimal.valueOf(x).divide(BigDecimal.valueOf((long) y * y), DECIMAL.get());
              DECIMAL.set(saved); // the end of the with block
              return List.of(a, b);
            });
  }

  /**
   * Port of {@code test_task_decimal_context}: two gathered tasks, each dividing in its own decimal
   * precision (3 and 6) before and after a sleep, interleaved on the loop thread: the second task
   * sets its precision between the first task's two divisions, and the first still divides in its
   * own. Without the agent both would share the loop thread's precision, and the first's second
   * division would give {@code 0.111111}.
   */
  @ParameterizedTest
  @MethodSource(THREAD_KINDS)
  void taskDecimalContext_eachTaskDividesInItsOwnPrecisionAcrossItsSleep(ThreadFactory factory)
      throws Exception {
    try (Loop loop = new Loop(factory)) {
      List<List<BigDecimal>> results =
          loop.runUntilComplete(
              () -> {
                // asyncio.gather(fractions(0.1, 3, 1, 3), fractions(0.2, 6, 1, 3)): each a task.
                CompletableFuture<List<BigDecimal>> r1 =
                    loop.createTask(() -> fractions(loop, 1_000, 3, 1, 3));
                CompletableFuture<List<BigDecimal>> r2 =
                    loop.createTask(() -> fractions(loop, 2_000, 6, 1, 3));
                return r1.thenCombine(r2, List::of);
              });

      assertThat(results.get(0)).map(BigDecimal::toString).containsExactly("0.333", "0.111");
      assertThat(results.get(1)).map(BigDecimal::toString).containsExactly("0.333333", "0.111111");
    }
    assertThat(DECIMAL.get()).isEqualTo(new MathContext(28));
  }

  /* ---- test_task_context_1 ---- */

  /**
   * Port of {@code test_task_context_1}: a subtask sees the context as of its creation, not the set
   * its creator makes right after, even though that set runs first on the loop thread; its own set,
   * after its sleep, does not reach the creator, which still sees its value once it has awaited the
   * subtask. Beyond the original: the subtask sees what the test thread bound ({@code main} copied
   * it, the subtask copied {@code main}'s).
   */
  @ParameterizedTest(name = "{0} loop thread, {1}")
  @MethodSource("loopThreadsAndCreations")
  void taskContext1_subtaskSeesTheContextAtItsCreation_itsSetDoesNotReachTheCreator(
      ThreadFactory factory, CreateTask createTask) throws Exception {
    ContextVar<String> cvar = ContextVar.named("cvar", "nope");
    try (Loop loop = new Loop(factory)) {
      String mainSawAtTheEnd =
          loop.runUntilComplete(
              () -> {
                assertThat(cvar.get()).isEqualTo("nope");
                CompletableFuture<Void> subtask =
                    createTask.create(
                        loop,
                        () ->
                            loop.sleep(10_000) // await asyncio.sleep(0.01)
                                .thenRun(
                                    () -> {
                                      assertThat(cvar.get()).isEqualTo("nope");
                                      assertThat(OUTER.get()).isEqualTo("the test's");
                                      cvar.set("something else");
                                    }));
                cvar.set("yes");
                assertThat(cvar.get()).isEqualTo("yes");
                return subtask.thenApply(done -> cvar.get()); // await subtask
              });

      assertThat(mainSawAtTheEnd).isEqualTo("yes");
    }
  }

  /* ---- test_task_context_2 ---- */

  /**
   * Port of {@code test_task_context_2}: a done callback runs in a copy of the context at its
   * registration, on the loop thread that completes the future, and its set does not pollute the
   * task; the task keeps its values across each await of the future and of three sleeps. Beyond the
   * original: what each callback saw is checked (the value at its registration: {@code nope}, then
   * {@code yes2-0}).
   */
  @ParameterizedTest
  @MethodSource(THREAD_KINDS)
  void taskContext2_doneCallbackRunsInACopyOfTheContextAtRegistration_taskUnpolluted(
      ThreadFactory factory) throws Exception {
    ContextVar<String> cvar = ContextVar.named("cvar", "nope");
    List<String> seenByCallbacks = Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<Void>> callbacks = Collections.synchronizedList(new ArrayList<>());
    try (Loop loop = new Loop(factory)) {
      List<String> seenByMain =
          loop.runUntilComplete(
              () -> {
                assertThat(cvar.get()).isEqualTo("nope");
                return new Context2Main(loop, cvar, seenByCallbacks, callbacks).iteration(0);
              });
      join(CompletableFuture.allOf(callbacks.toArray(CompletableFuture[]::new)));

      assertThat(seenByMain)
          .as("main's values after each await")
          .containsExactly(
              "yes0", "yes0-0", "yes1-0", "yes2-0", "yes1", "yes0-1", "yes1-1", "yes2-1");
      assertThat(seenByCallbacks)
          .as("each callback saw the value at its registration")
          .containsExactly("nope", "yes2-0");
    }
    assertThat(cvar.get()).isEqualTo("nope");
  }

  /** The steps of test_task_context_2's {@code main()}. */
  private record Context2Main(
      Loop loop,
      ContextVar<String> cvar,
      List<String> seenByCallbacks,
      List<CompletableFuture<Void>> callbacks) {

    private static final List<String> NOTHING_YET = List.of();

    /** {@code for j in range(2)}: iteration {@code j}, then the rest. */
    CompletionStage<List<String>> iteration(int j) {
      if (j == 2) {
        return CompletableFuture.completedFuture(NOTHING_YET);
      }
      CompletableFuture<Void> fut = new CompletableFuture<>(); // loop.create_future()
      // fut.add_done_callback(fut_on_done): this change must not pollute main's context.
      callbacks.add(
          fut.thenRun(
              () -> {
                seenByCallbacks.add(cvar.get());
                cvar.set("something else");
              }));
      cvar.set("yes" + j);
      loop.callSoon(() -> fut.complete(null)); // loop.call_soon(fut.set_result, None)
      return fut.thenCompose( // await fut
          done -> {
            String seen = cvar.get();
            assertThat(seen).isEqualTo("yes" + j);
            return sleeps(0, j).thenApply(rest -> prepend(seen, rest));
          });
    }

    /** {@code for i in range(3)}: set, sleep, check; then the next iteration of {@code j}. */
    CompletionStage<List<String>> sleeps(int i, int j) {
      if (i == 3) {
        return iteration(j + 1);
      }
      // Test that the task passed its context to add_done_callback, and kept its own.
      cvar.set("yes" + i + "-" + j);
      return loop.sleep(1_000) // await asyncio.sleep(0.001)
          .thenCompose(
              slept -> {
                String seen = cvar.get();
                assertThat(seen).isEqualTo("yes" + i + "-" + j);
                return sleeps(i + 1, j).thenApply(rest -> prepend(seen, rest));
              });
    }

    private static List<String> prepend(String first, List<String> rest) {
      List<String> all = new ArrayList<>(rest.size() + 1);
      all.add(first);
      all.addAll(rest);
      return all;
    }
  }

  /* ---- test_task_context_3 ---- */

  /**
   * Port of {@code test_task_context_3}: 100 tasks on the one loop thread, each setting its value
   * ten times with a seeded random sleep after each set (a tenth of uvloop's 1 to 50 ms), and
   * checking it after each sleep: the other tasks' steps run on the same thread in between, and
   * each task still sees its own value. A task records what it saw wrong and runs on, so that one
   * wrong value does not hide the others. Beyond the original, which gathers with {@code
   * return_exceptions=True} and so never sees a task's failure: the gathered outcomes are checked,
   * and each task also checks that it started from {@code main}'s context and sees {@link #OUTER}.
   */
  @ParameterizedTest
  @MethodSource(THREAD_KINDS)
  void taskContext3_hundredTasksInterleavedOnTheLoopThread_eachKeepsItsOwnValues(
      ThreadFactory factory) throws Exception {
    ContextVar<Integer> cvar = ContextVar.named("cvar", -1);
    SplittableRandom random = new SplittableRandom(SEED);
    try (Loop loop = new Loop(factory)) {
      List<String> mismatches =
          loop.runUntilComplete(
              () -> {
                List<CompletableFuture<List<String>>> tasks = new ArrayList<>();
                for (int t = 0; t < 100; t++) {
                  SteppedSub sub =
                      new SteppedSub(loop, cvar, random.split(), random.nextInt(0, 11), t);
                  tasks.add(loop.createTask(() -> sub.step(0))); // create_task(sub(randint(0, 10)))
                }
                // await asyncio.gather(*tasks, return_exceptions=True)
                return CompletableFuture.allOf(tasks.toArray(CompletableFuture[]::new))
                    .thenApply(
                        all -> tasks.stream().flatMap(task -> task.join().stream()).toList());
              });

      assertThat(mismatches).as("what the tasks saw wrong (seed %d)", SEED).isEmpty();
    }
    assertThat(cvar.get()).isEqualTo(-1);
  }

  /** {@code async def sub(num)}: ten steps; it records what it sees wrong and runs on. */
  private record SteppedSub(
      Loop loop, ContextVar<Integer> cvar, SplittableRandom random, int num, int id) {

    /** Step {@code i}: after the sleep of step {@code i - 1}, check; then set and sleep. */
    CompletionStage<List<String>> step(int i) {
      List<String> wrong = new ArrayList<>();
      int expected = i == 0 ? -1 : num + i - 1;
      if (cvar.get() != expected || !"the test's".equals(OUTER.getOrDefault(null))) {
        wrong.add(
            String.format(
                "task %d step %d: cvar %d outer %s, expected %d (seed %d)",
                id, i, cvar.get(), OUTER.getOrDefault(null), expected, SEED));
      }
      if (i == 10) {
        return CompletableFuture.completedFuture(wrong);
      }
      cvar.set(num + i);
      // await asyncio.sleep(random.uniform(0.001, 0.05)), a tenth of it.
      return loop.sleep(random.nextLong(100, 5_000))
          .thenCompose(slept -> step(i + 1))
          .thenApply(
              rest -> {
                wrong.addAll(rest);
                return wrong;
              });
    }
  }

  /* ---- test_task_context_4 ---- */

  /** How the subtask of test_task_context_4 queues its callback. */
  enum QueueCallback {
    /** {@code loop.call_soon(cb)}, as in uvloop's test. */
    CALL_SOON {
      @Override
      void queue(Loop loop, Runnable callback) {
        loop.callSoon(callback);
      }
    },
    /** {@code loop.call_soon(cb, context=contextvars.copy_context())}. */
    CALL_SOON_IN_A_COPY {
      @Override
      void queue(Loop loop, Runnable callback) {
        loop.callSoon(Context.copyCurrent().wrap(callback));
      }
    },
    /** {@code loop.call_later(0.001, cb)}. */
    CALL_LATER {
      @Override
      void queue(Loop loop, Runnable callback) {
        loop.callLater(1_000, callback);
      }
    },
    /**
     * {@code loop.call_later(3600, cb).cancel()}: the callback never runs. uvloop drops a cancelled
     * timer's context at once; the JDK keeps a cancelled task in its queue until its delay has
     * elapsed (the default of {@code setRemoveOnCancelPolicy}), so the agent must not keep the
     * context with it.
     */
    CALL_LATER_CANCELLED {
      @Override
      void queue(Loop loop, Runnable callback) {
        assertThat(loop.callLater(3_600_000_000L, callback).cancel(false)).isTrue();
      }

      @Override
      boolean runs() {
        return false;
      }
    };

    abstract void queue(Loop loop, Runnable callback);

    /** {@return whether the callback runs} */
    boolean runs() {
      return true;
    }
  }

  static Stream<Arguments> loopThreadsAndQueueings() {
    return Support.threadKinds()
        .flatMap(kind -> Stream.of(QueueCallback.values()).map(way -> Arguments.of(kind, way)));
  }

  /** An object whose collection the test watches. */
  static final class TrackMe {}

  /**
   * Port of {@code test_task_context_4} (a regression test of uvloop's for a leaked context): a
   * subtask sets a variable to an object and queues a callback, which the agent gives a copy of the
   * subtask's context; once the callback has run and the tasks are done, nothing may keep that
   * object reachable: not the loop's queue, not the loop thread's state, not the finished futures.
   * Without the agent the set goes into the loop thread's own context, which keeps it. Beyond the
   * original: the callback is queued four ways, one of them cancelled before it runs (the loop's
   * queue still holds it when the object is collected), and a callback that runs must have seen the
   * object. In place of {@code main}'s {@code await asyncio.sleep(0.01)}, {@code main} awaits the
   * callback itself.
   */
  @ParameterizedTest(name = "{0} loop thread, {1}")
  @MethodSource("loopThreadsAndQueueings")
  void taskContext4_aFinishedTasksValuesAreNotKeptByTheLoop(
      ThreadFactory factory, QueueCallback queueCallback) throws Exception {
    ContextVar<Object> cvar = ContextVar.named("cvar", "nope");
    ReferenceQueue<TrackMe> queue = new ReferenceQueue<>();
    AtomicBoolean callbackSawTheObject = new AtomicBoolean();
    try (Loop loop = new Loop(factory)) {
      WeakReference<TrackMe> ref =
          runTrackedTasks(loop, cvar, queueCallback, queue, callbackSawTheObject);

      assertThat(callbackSawTheObject.get())
          .as("the callback ran and saw the subtask's value")
          .isEqualTo(queueCallback.runs());
      if (!queueCallback.runs()) {
        assertThat(loop.queued()).as("the cancelled callback is still queued").isOne();
      }
      assertThat(collected(ref, queue))
          .as("the value a finished task set was collected (%s)", queueCallback)
          .isTrue();
    }
    assertThat(cvar.get()).isEqualTo("nope");
  }

  /**
   * Runs test_task_context_4's {@code main()}; the tracked object is referenced only weakly here.
   */
  private static WeakReference<TrackMe> runTrackedTasks(
      Loop loop,
      ContextVar<Object> cvar,
      QueueCallback queueCallback,
      ReferenceQueue<TrackMe> queue,
      AtomicBoolean callbackSawTheObject)
      throws Exception {
    TrackMe tracked = new TrackMe();
    WeakReference<TrackMe> ref = new WeakReference<>(tracked, queue);
    CompletableFuture<Void> callbackRan = new CompletableFuture<>();
    loop.runUntilComplete(
        () ->
            loop.createTask( // await self.loop.create_task(sub())
                    () -> {
                      cvar.set(tracked);
                      queueCallback.queue(
                          loop,
                          () -> { // lambda: None
                            callbackSawTheObject.set(cvar.get() instanceof TrackMe);
                            callbackRan.complete(null);
                          });
                      return CompletableFuture.completedFuture(null);
                    })
                .thenCompose(
                    subDone ->
                        queueCallback.runs()
                            ? callbackRan
                            : CompletableFuture.<Void>completedFuture(null)));
    return ref;
  }

  /* ---- test_subprocess_protocol ---- */

  /** The child process: echoes its standard input to its standard output, as uvloop's does. */
  static final class Echo {
    private Echo() {}

    public static void main(String[] args) throws IOException {
      System.in.transferTo(System.out);
      System.out.flush();
    }
  }

  /**
   * {@return a reader task's stage: all of {@code in}, and the value of {@code cvar} at its end}
   */
  private static CompletableFuture<List<String>> readToTheEnd(
      InputStream in, ContextVar<String> cvar, ExecutorService readers) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (in) {
            // pipe_data_received, then pipe_connection_lost: the end of the pipe.
            return List.of(new String(in.readAllBytes(), UTF_8), cvar.get());
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        readers);
  }

  /**
   * Port of {@code test_subprocess_protocol}, what of it the JDK has: a task on the loop sets
   * {@code inner} and spawns a process (the JVM running {@link Echo}, as uvloop spawns {@code
   * sys.executable}); tasks it starts on a pool read the process's output and error pipes to their
   * ends; the stages it attaches to {@code Process.onExit()}, which the JDK completes on its own
   * threads, are the process-exit callback, and one after both pipes and the exit is {@code
   * connection_lost}. Each must see {@code inner}: the context where it was started or attached.
   * Beyond the original: the task changes the variable after attaching them, before writing to the
   * process, and they still see {@code inner}.
   */
  @Test
  void subprocessProtocol_exitAndPipeCallbacksSeeTheContextOfTheSpawner() throws Exception {
    ContextVar<String> cvar = ContextVar.named("cvar", "outer");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Path classes = Path.of(Echo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    ExecutorService readers =
        Executors.newFixedThreadPool(2, Thread.ofPlatform().daemon().factory());
    List<Process> spawned = Collections.synchronizedList(new ArrayList<>());
    try (Loop loop = new Loop(Thread.ofPlatform().daemon().factory())) {
      List<List<String>> seen =
          loop.runUntilComplete(
              () -> {
                assertThat(cvar.get()).isEqualTo("outer");
                cvar.set("inner");
                Process process;
                try {
                  process =
                      new ProcessBuilder(
                              java.toString(),
                              "-Xshare:auto",
                              "-XX:TieredStopAtLevel=1",
                              "-cp",
                              classes.toString(),
                              Echo.class.getName())
                          .start(); // await loop.subprocess_exec(lambda: proto, ...)
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
                spawned.add(process);
                CompletableFuture<List<String>> stdout =
                    readToTheEnd(process.getInputStream(), cvar, readers);
                CompletableFuture<List<String>> stderr =
                    readToTheEnd(process.getErrorStream(), cvar, readers);
                // pipe_connection_lost_fut: after every pipe's end.
                CompletableFuture<String> pipesLost =
                    stdout.thenCombine(stderr, (out, err) -> cvar.get());
                CompletableFuture<String> exited =
                    process.onExit().thenApply(exit -> cvar.get()); // process_exited
                CompletableFuture<String> connectionLost =
                    CompletableFuture.allOf(pipesLost, exited).thenApply(all -> cvar.get());

                cvar.set("changed after the callbacks were attached");
                try (OutputStream stdin = process.getOutputStream()) {
                  stdin.write("data".getBytes(UTF_8)); // get_pipe_transport(0).write(b'data')
                } catch (IOException e) { // write_eof(): the close
                  throw new UncheckedIOException(e);
                }
                return connectionLost.thenApply(
                    lost ->
                        List.of(
                            stdout.join(),
                            List.of(stderr.join().get(1)),
                            List.of(pipesLost.join(), exited.join(), lost),
                            List.of(String.valueOf(process.exitValue()))));
              });

      assertThat(seen.get(0))
          .as("the data echoed, and the output reader's context")
          .containsExactly("data", "inner");
      assertThat(seen.get(1)).as("the error reader's context").containsExactly("inner");
      assertThat(seen.get(2))
          .as("pipe_connection_lost, process_exited, connection_lost")
          .containsExactly("inner", "inner", "inner");
      assertThat(seen.get(3)).as("the child's exit code").containsExactly("0");
    } finally {
      for (Process process : spawned) {
        process.destroyForcibly();
        assertThat(process.waitFor(TIMEOUT_SECONDS, SECONDS)).as("the child ended").isTrue();
      }
      terminate(readers);
    }
  }
}
