package org.contextvars4j.agent;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.contextvars4j.agent.Support.TIMEOUT_SECONDS;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The agent on plain {@link CompletableFuture}s: a unit of asynchronous work ({@code supplyAsync},
 * {@code runAsync}) runs in a copy of the caller's context as of the call, and every dependent
 * stage runs its function in a copy of the context current where the stage was <i>attached</i>,
 * whichever thread completes the future and whichever thread runs the stage. Port of the core's
 * {@code ContextFuturesTest}, where {@code ContextFutures.supplyAsync}/{@code wrap} are now the
 * JDK's own futures. Apart from the context, the futures behave as the JDK's: where they could
 * differ (values, the exception a function is given, the outcome of a derived future), the test
 * compares with a twin doing the same thing outside any context.
 *
 * <p>Every {@link CompletionStage} method, in its sync, {@code *Async} and {@code *Async(executor)}
 * forms, is a row of {@link #stageMethods()} (checked against {@code CompletionStage} by
 * reflection).
 *
 * <p>The threads around each test are adversarial: the threads that complete the futures (one
 * platform, one virtual) and the thread of the executor given to the {@code *Async(executor)}
 * forms hold other values of the variable in their own contexts; and the code that completes a
 * future runs in yet another context ("completing code's"). After each test every such thread's
 * own context must hold exactly its value: no stage may leave a set on the thread that ran it.
 */
final class CompletableFutureIT {

  /** The variable whose value each stage must see: the attaching code's. */
  private static final ContextVar<String> VAR = Support.NAME;

  /** Set only by stages: bound anywhere else, it is a stage's set that leaked. */
  private static final ContextVar<String> SIDE = ContextVar.named("side");

  private static final String UNBOUND = "<unbound>";

  private static final String PLATFORM_COMPLETER = "platform completer's own value";
  private static final String VIRTUAL_COMPLETER = "virtual completer's own value";
  private static final String STAGE_EXECUTOR = "stage executor's own value";

  /** The context the code that completes a future runs in (a task on a completer). */
  private static final String COMPLETING_CODE = "completing code's";

  private static Support.ProbedPool platformCompleter;
  private static Support.ProbedPool virtualCompleter;
  private static Support.ProbedPool stageExecutor;

  private static Thread platformCompleterThread;
  private static Thread virtualCompleterThread;
  private static Thread stageExecutorThread;

  @BeforeAll
  static void startAdversarialThreads() throws Exception {
    // Each thread sets its value in its own (base) context before it runs its pool's loop: a
    // stage that ran in the thread's own context instead of a copy would see it, and could
    // change it.
    platformCompleter =
        new Support.ProbedPool(
            1,
            new Support.OwnContexts(
                Thread.ofPlatform().name("platform-completer").daemon().factory(),
                PLATFORM_COMPLETER));
    virtualCompleter =
        new Support.ProbedPool(
            1,
            new Support.OwnContexts(
                Thread.ofVirtual().name("virtual-completer").factory(), VIRTUAL_COMPLETER));
    stageExecutor =
        new Support.ProbedPool(
            1,
            new Support.OwnContexts(
                Thread.ofPlatform().name("stage-executor").daemon().factory(), STAGE_EXECUTOR));
    platformCompleterThread = threadOf(platformCompleter);
    virtualCompleterThread = threadOf(virtualCompleter);
    stageExecutorThread = threadOf(stageExecutor);
    assertThat(virtualCompleterThread.isVirtual()).isTrue();
    assertThat(platformCompleter.ownMapping()).isEqualTo(Map.of(VAR, PLATFORM_COMPLETER));
  }

  private static Thread threadOf(ExecutorService executor) throws Exception {
    return await(executor.submit(Thread::currentThread));
  }

  @AfterAll
  static void stopAdversarialThreads() throws InterruptedException {
    for (ExecutorService executor : List.of(platformCompleter, virtualCompleter, stageExecutor)) {
      Support.terminate(executor);
    }
  }

  @AfterEach
  void everyThreadsOwnContextIsAsItWas() throws Exception {
    assertThat(Context.copyCurrent().size())
        .as("the test left no value in the test thread's own context")
        .isZero();
    assertThat(platformCompleter.ownMapping())
        .as("no stage left a set on the platform thread that completed its future")
        .isEqualTo(Map.of(VAR, PLATFORM_COMPLETER));
    assertThat(virtualCompleter.ownMapping())
        .as("no stage left a set on the virtual thread that completed its future")
        .isEqualTo(Map.of(VAR, VIRTUAL_COMPLETER));
    assertThat(stageExecutor.ownMapping())
        .as("no stage left a set on the executor thread that ran it")
        .isEqualTo(Map.of(VAR, STAGE_EXECUTOR));
  }

  /* ---- every CompletionStage method ---- */

  /** Whether a stage's function runs when its source succeeds or when it fails. */
  enum Trigger {
    SUCCESS,
    FAILURE
  }

  /** The three forms of each method, told apart by name and by a trailing executor. */
  enum Form {
    SYNC,
    ASYNC,
    ASYNC_EXECUTOR
  }

  /** Attaches one stage, whose function calls {@code probe}, to {@code source}. */
  @FunctionalInterface
  interface Attach {
    CompletableFuture<?> attach(CompletableFuture<String> source, Probe probe, Executor executor);
  }

  /** One {@link CompletionStage} method. */
  record StageMethod(String name, List<Class<?>> parameterTypes, Trigger trigger, Attach attach) {

    Form form() {
      if (parameterTypes.get(parameterTypes.size() - 1) == Executor.class) {
        return Form.ASYNC_EXECUTOR;
      }
      return name.endsWith("Async") ? Form.ASYNC : Form.SYNC;
    }

    String signature() {
      return signature(name, parameterTypes);
    }

    static String signature(String name, List<Class<?>> parameterTypes) {
      return name
          + parameterTypes.stream()
              .map(Class::getSimpleName)
              .toList()
              .toString()
              .replace('[', '(')
              .replace(']', ')');
    }

    @Override
    public String toString() {
      return signature();
    }
  }

  /** The "other" stage of the {@code *Both} methods: complete, so only the source matters. */
  private static CompletableFuture<String> other() {
    return CompletableFuture.completedFuture("other");
  }

  /** The "other" stage of the {@code *Either} methods: never complete, so the source triggers. */
  private static CompletableFuture<String> never() {
    return new CompletableFuture<>();
  }

  /** Every {@link CompletionStage} method but {@code toCompletableFuture}, in all three forms. */
  static List<StageMethod> stageMethods() {
    List<StageMethod> rows = new ArrayList<>();
    Trigger ok = Trigger.SUCCESS;
    forms(rows, "thenApply", ok, List.of(Function.class),
        (s, p, e) -> s.thenApply(v -> p.fire(v)),
        (s, p, e) -> s.thenApplyAsync(v -> p.fire(v)),
        (s, p, e) -> s.thenApplyAsync(v -> p.fire(v), e));
    forms(rows, "thenAccept", ok, List.of(Consumer.class),
        (s, p, e) -> s.thenAccept(v -> p.fire(v)),
        (s, p, e) -> s.thenAcceptAsync(v -> p.fire(v)),
        (s, p, e) -> s.thenAcceptAsync(v -> p.fire(v), e));
    forms(rows, "thenRun", ok, List.of(Runnable.class),
        (s, p, e) -> s.thenRun(() -> p.fire()),
        (s, p, e) -> s.thenRunAsync(() -> p.fire()),
        (s, p, e) -> s.thenRunAsync(() -> p.fire(), e));
    forms(rows, "thenCombine", ok, List.of(CompletionStage.class, BiFunction.class),
        (s, p, e) -> s.thenCombine(other(), (v, o) -> p.fire(v, o)),
        (s, p, e) -> s.thenCombineAsync(other(), (v, o) -> p.fire(v, o)),
        (s, p, e) -> s.thenCombineAsync(other(), (v, o) -> p.fire(v, o), e));
    forms(rows, "thenAcceptBoth", ok, List.of(CompletionStage.class, BiConsumer.class),
        (s, p, e) -> s.thenAcceptBoth(other(), (v, o) -> p.fire(v, o)),
        (s, p, e) -> s.thenAcceptBothAsync(other(), (v, o) -> p.fire(v, o)),
        (s, p, e) -> s.thenAcceptBothAsync(other(), (v, o) -> p.fire(v, o), e));
    forms(rows, "runAfterBoth", ok, List.of(CompletionStage.class, Runnable.class),
        (s, p, e) -> s.runAfterBoth(other(), () -> p.fire()),
        (s, p, e) -> s.runAfterBothAsync(other(), () -> p.fire()),
        (s, p, e) -> s.runAfterBothAsync(other(), () -> p.fire(), e));
    forms(rows, "applyToEither", ok, List.of(CompletionStage.class, Function.class),
        (s, p, e) -> s.applyToEither(never(), v -> p.fire(v)),
        (s, p, e) -> s.applyToEitherAsync(never(), v -> p.fire(v)),
        (s, p, e) -> s.applyToEitherAsync(never(), v -> p.fire(v), e));
    forms(rows, "acceptEither", ok, List.of(CompletionStage.class, Consumer.class),
        (s, p, e) -> s.acceptEither(never(), v -> p.fire(v)),
        (s, p, e) -> s.acceptEitherAsync(never(), v -> p.fire(v)),
        (s, p, e) -> s.acceptEitherAsync(never(), v -> p.fire(v), e));
    forms(rows, "runAfterEither", ok, List.of(CompletionStage.class, Runnable.class),
        (s, p, e) -> s.runAfterEither(never(), () -> p.fire()),
        (s, p, e) -> s.runAfterEitherAsync(never(), () -> p.fire()),
        (s, p, e) -> s.runAfterEitherAsync(never(), () -> p.fire(), e));
    forms(rows, "thenCompose", ok, List.of(Function.class),
        (s, p, e) -> s.thenCompose(v -> CompletableFuture.completedFuture(p.fire(v))),
        (s, p, e) -> s.thenComposeAsync(v -> CompletableFuture.completedFuture(p.fire(v))),
        (s, p, e) -> s.thenComposeAsync(v -> CompletableFuture.completedFuture(p.fire(v)), e));
    // handle, whenComplete: run on success and on failure; the failures have their own test.
    forms(rows, "handle", ok, List.of(BiFunction.class),
        (s, p, e) -> s.handle((v, x) -> p.fire(v, x)),
        (s, p, e) -> s.handleAsync((v, x) -> p.fire(v, x)),
        (s, p, e) -> s.handleAsync((v, x) -> p.fire(v, x), e));
    forms(rows, "whenComplete", ok, List.of(BiConsumer.class),
        (s, p, e) -> s.whenComplete((v, x) -> p.fire(v, x)),
        (s, p, e) -> s.whenCompleteAsync((v, x) -> p.fire(v, x)),
        (s, p, e) -> s.whenCompleteAsync((v, x) -> p.fire(v, x), e));
    // exceptionally*: run only on failure.
    Trigger failed = Trigger.FAILURE;
    forms(rows, "exceptionally", failed, List.of(Function.class),
        (s, p, e) -> s.exceptionally(x -> p.fire(x)),
        (s, p, e) -> s.exceptionallyAsync(x -> p.fire(x)),
        (s, p, e) -> s.exceptionallyAsync(x -> p.fire(x), e));
    forms(rows, "exceptionallyCompose", failed, List.of(Function.class),
        (s, p, e) -> s.exceptionallyCompose(x -> CompletableFuture.completedFuture(p.fire(x))),
        (s, p, e) -> s.exceptionallyComposeAsync(x -> CompletableFuture.completedFuture(p.fire(x))),
        (s, p, e) ->
            s.exceptionallyComposeAsync(x -> CompletableFuture.completedFuture(p.fire(x)), e));
    checkTheTableListsEveryCompletionStageMethod(rows);
    return List.copyOf(rows);
  }

  private static void forms(
      List<StageMethod> rows,
      String name,
      Trigger trigger,
      List<Class<?>> parameterTypes,
      Attach sync,
      Attach async,
      Attach asyncWithExecutor) {
    List<Class<?>> withExecutor = new ArrayList<>(parameterTypes);
    withExecutor.add(Executor.class);
    rows.add(new StageMethod(name, parameterTypes, trigger, sync));
    rows.add(new StageMethod(name + "Async", parameterTypes, trigger, async));
    rows.add(
        new StageMethod(name + "Async", List.copyOf(withExecutor), trigger, asyncWithExecutor));
  }

  /** A precondition of the table's tests: no CompletionStage method is missing from it. */
  private static void checkTheTableListsEveryCompletionStageMethod(List<StageMethod> rows) {
    Set<String> inTable = new TreeSet<>();
    for (StageMethod method : rows) {
      assertThat(inTable.add(method.signature())).as("listed once: %s", method).isTrue();
    }
    Set<String> ofCompletionStage = new TreeSet<>();
    for (Method method : CompletionStage.class.getMethods()) {
      if (!method.getName().equals("toCompletableFuture")) {
        ofCompletionStage.add(
            StageMethod.signature(method.getName(), List.of(method.getParameterTypes())));
      }
    }
    assertThat(inTable)
        .as("the table lists exactly the CompletionStage methods (toCompletableFuture aside)")
        .isEqualTo(ofCompletionStage)
        .hasSize(42);
  }

  /** How the source future of a test is made and completed. */
  enum Completion {
    /** Complete before the stage is attached: a sync stage runs at once, on the test thread. */
    ALREADY_COMPLETE,
    /** Completed later by code running, in another context, on the platform completer. */
    COMPLETED_BY_PLATFORM_THREAD,
    /** Completed later by code running, in another context, on the virtual completer. */
    COMPLETED_BY_VIRTUAL_THREAD
  }

  /** A source future and what completes it (nothing, when it is already complete). */
  private record Source(
      CompletableFuture<String> future, Support.Body complete, Thread completingThread) {}

  private static Source source(Completion completion, Trigger trigger, Throwable failure) {
    return switch (completion) {
      case ALREADY_COMPLETE ->
          new Source(
              trigger == Trigger.SUCCESS
                  ? CompletableFuture.completedFuture("value")
                  : CompletableFuture.failedFuture(failure),
              () -> {},
              Thread.currentThread());
      case COMPLETED_BY_PLATFORM_THREAD -> {
        CompletableFuture<String> future = new CompletableFuture<>();
        yield new Source(
            future,
            () -> completeOn(platformCompleter, () -> settle(future, trigger, failure)),
            platformCompleterThread);
      }
      case COMPLETED_BY_VIRTUAL_THREAD -> {
        CompletableFuture<String> future = new CompletableFuture<>();
        yield new Source(
            future,
            () -> completeOn(virtualCompleter, () -> settle(future, trigger, failure)),
            virtualCompleterThread);
      }
    };
  }

  private static void settle(CompletableFuture<String> future, Trigger trigger, Throwable failure) {
    assertThat(VAR.get()).as("the completing code's own context").isEqualTo(COMPLETING_CODE);
    if (trigger == Trigger.SUCCESS) {
      assertThat(future.complete("value")).isTrue();
    } else {
      assertThat(future.completeExceptionally(failure)).isTrue();
    }
    assertThat(VAR.get())
        .as("the stages run by complete() left the completing code's context alone")
        .isEqualTo(COMPLETING_CODE);
    assertThat(SIDE.isBound()).isFalse();
  }

  /**
   * Runs {@code body} on {@code completer}, submitted from a context holding {@link
   * #COMPLETING_CODE} (so {@code body} runs in a copy of it), and waits (bounded) for it.
   */
  private static void completeOn(ExecutorService completer, Support.Body body) throws Exception {
    Support.inNewContext(
        () -> {
          VAR.set(COMPLETING_CODE);
          Support.runOn(completer, body);
        });
  }

  static Stream<Arguments> stageMethodsAndCompletions() {
    return stageMethods().stream()
        .flatMap(m -> Arrays.stream(Completion.values()).map(c -> Arguments.of(m, c)));
  }

  @ParameterizedTest(name = "{0}, source {1}")
  @MethodSource("stageMethodsAndCompletions")
  void stageMethod_attachedInAContext_functionRunsInACopyOfThatContext(
      StageMethod method, Completion completion) throws Exception {
    Throwable boom = new IllegalStateException("boom");
    Source source = source(completion, method.trigger(), boom);
    Probe first = new Probe("first");
    Probe second = new Probe("second");
    Probe ofDerived = new Probe("of derived");
    Thread testThread = Thread.currentThread();
    Context attaching = new Context();

    CompletableFuture<?> derived =
        attaching.call(
            () -> {
              VAR.set("attach 1");
              CompletableFuture<?> firstDerived =
                  method.attach().attach(source.future(), first, stageExecutor);
              assertThat(VAR.get())
                  .as("the stage's set does not reach the attaching code")
                  .isEqualTo("attach 1");
              assertThat(SIDE.isBound()).as("nor does its other set").isFalse();
              if (completion == Completion.ALREADY_COMPLETE && method.form() == Form.SYNC) {
                assertThat(first.fired())
                    .as("a sync stage of a complete future runs at once, as in the JDK")
                    .isTrue();
              }
              // A sibling stage, attached after a set: the copy is taken at attach time.
              VAR.set("attach 2");
              method.attach().attach(source.future(), second, stageExecutor);
              // The derived future carries the rule too.
              VAR.set("attach derived");
              firstDerived.whenComplete((v, x) -> ofDerived.fire(v, x));
              VAR.set("after attaching");
              return firstDerived;
            });
    if (completion != Completion.ALREADY_COMPLETE) {
      assertThat(first.fired()).as("nothing ran before the source completed").isFalse();
      source.complete().run();
    }
    Seen seenFirst = first.await();
    Seen seenSecond = second.await();
    Seen seenOfDerived = ofDerived.await();

    assertThat(seenFirst.var())
        .as("the function sees the context where it was attached, not the completing code's")
        .isEqualTo("attach 1");
    assertThat(seenSecond.var())
        .as("a sibling sees its own attaching context, not the first stage's set")
        .isEqualTo("attach 2");
    assertThat(seenOfDerived.var())
        .as("a stage of the derived future sees where it was attached")
        .isEqualTo("attach derived");
    assertThat(List.of(seenFirst, seenSecond, seenOfDerived))
        .as("no stage sees another stage's set")
        .noneMatch(Seen::sideBound);
    assertThat(attaching.asMap())
        .as("the stages' sets never reached the attaching context")
        .isEqualTo(Map.of(VAR, "after attaching"));
    assertThat(List.of(first.calls(), second.calls(), ofDerived.calls())).containsOnly(1);

    // Where it ran: as the JDK runs it (this also catches a row calling the wrong form).
    switch (method.form()) {
      case SYNC ->
          assertThat(List.of(seenFirst.thread(), seenSecond.thread()))
              .as("a sync stage runs on the thread that completes the source")
              .containsOnly(
                  completion == Completion.ALREADY_COMPLETE
                      ? testThread
                      : source.completingThread());
      case ASYNC_EXECUTOR ->
          assertThat(List.of(seenFirst.thread(), seenSecond.thread()))
              .as("an *Async(executor) stage runs on the executor")
              .containsOnly(stageExecutorThread);
      case ASYNC ->
          assertThat(List.of(seenFirst.thread(), seenSecond.thread()))
              .as("an *Async stage runs on the default executor")
              .doesNotContain(
                  testThread, platformCompleterThread, virtualCompleterThread, stageExecutorThread);
    }

    // Apart from the context, exactly what the same stage does outside any context.
    CompletableFuture<String> twinSource =
        method.trigger() == Trigger.SUCCESS
            ? CompletableFuture.completedFuture("value")
            : CompletableFuture.failedFuture(boom);
    Probe twin = Probe.quiet("twin");
    CompletableFuture<?> twinDerived = method.attach().attach(twinSource, twin, stageExecutor);
    assertThat(shapes(seenFirst.inputs(), boom))
        .as("the function is given what the twin's function is given")
        .isEqualTo(shapes(twin.await().inputs(), boom));
    assertThat(outcomeShape(derived, boom))
        .as("the derived future completes as the twin's")
        .isEqualTo(outcomeShape(twinDerived, boom));
  }

  /* ---- failures: exceptionally, handle, whenComplete ---- */

  /** How a source fails. */
  enum Failure {
    COMPLETED_EXCEPTIONALLY,
    THROWN_BY_A_STAGE,
    THROWN_BY_THE_SUPPLIER,
    CANCELLED
  }

  /** A failing source: {@code fail} makes it fail. */
  private record Failing(CompletableFuture<String> future, Support.Body fail) {}

  private static Failing failing(Failure failure, RuntimeException boom) {
    return switch (failure) {
      case COMPLETED_EXCEPTIONALLY -> {
        CompletableFuture<String> future = new CompletableFuture<>();
        yield new Failing(
            future, () -> completeOn(platformCompleter, () -> future.completeExceptionally(boom)));
      }
      case THROWN_BY_A_STAGE -> {
        CompletableFuture<String> gate = new CompletableFuture<>();
        CompletableFuture<String> future =
            gate.thenApply(
                v -> {
                  throw boom;
                });
        yield new Failing(future, () -> completeOn(platformCompleter, () -> gate.complete("v")));
      }
      case THROWN_BY_THE_SUPPLIER -> {
        CountDownLatch go = new CountDownLatch(1);
        CompletableFuture<String> future =
            CompletableFuture.supplyAsync(
                () -> {
                  Support.awaitUnchecked(go);
                  throw boom;
                },
                stageExecutor);
        yield new Failing(future, go::countDown);
      }
      case CANCELLED -> {
        CompletableFuture<String> future = new CompletableFuture<>();
        yield new Failing(future, () -> completeOn(platformCompleter, () -> future.cancel(false)));
      }
    };
  }

  static Stream<Arguments> failureMethodsAndFailures() {
    return stageMethods().stream()
        .filter(
            m ->
                m.name().startsWith("exceptionally")
                    || m.name().startsWith("handle")
                    || m.name().startsWith("whenComplete"))
        .flatMap(m -> Arrays.stream(Failure.values()).map(f -> Arguments.of(m, f)));
  }

  @ParameterizedTest(name = "{0}, source {1}")
  @MethodSource("failureMethodsAndFailures")
  void failureMethod_failedSource_runsInAttachingContextAndSeesTheFailureAsTheTwin(
      StageMethod method, Failure failure) throws Exception {
    RuntimeException boom = new IllegalStateException("boom");
    Failing ours = failing(failure, boom);
    Probe probe = new Probe("on failure");
    Context attaching = new Context();
    CompletableFuture<?> derived =
        attaching.call(
            () -> {
              VAR.set("attach");
              CompletableFuture<?> stage =
                  method.attach().attach(ours.future(), probe, stageExecutor);
              VAR.set("after attaching");
              return stage;
            });
    ours.fail().run();
    Seen seen = probe.await();

    assertThat(seen.var()).as("the function sees where it was attached").isEqualTo("attach");
    assertThat(seen.sideBound()).isFalse();
    assertThat(attaching.asMap()).isEqualTo(Map.of(VAR, "after attaching"));

    Failing twinSource = failing(failure, boom);
    Probe twin = Probe.quiet("twin");
    CompletableFuture<?> twinDerived =
        method.attach().attach(twinSource.future(), twin, stageExecutor);
    twinSource.fail().run();

    assertThat(failureShape(seen.inputs(), boom))
        .as("the same exception, wrapped or not exactly as for the twin")
        .isEqualTo(failureShape(twin.await().inputs(), boom));
    assertThat(outcomeShape(derived, boom))
        .as("the derived future fails or recovers as the twin's")
        .isEqualTo(outcomeShape(twinDerived, boom));
  }

  @Test
  void stage_functionThrows_derivedFailsAsTheJdkSays_andNoSetLeaks() throws Exception {
    RuntimeException boom = new IllegalStateException("boom");
    CompletableFuture<String> source = new CompletableFuture<>();
    Context attaching = new Context();
    CompletableFuture<String> derived =
        attaching.call(
            () -> {
              VAR.set("attach");
              return source.thenApply(
                  v -> {
                    assertThat(VAR.get()).isEqualTo("attach");
                    VAR.set("set before throwing");
                    SIDE.set("set before throwing");
                    throw boom;
                  });
            });

    completeOn(platformCompleter, () -> source.complete("value"));

    assertThat(catchThrowable(() -> derived.get(TIMEOUT_SECONDS, SECONDS)))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isSameAs(boom);
    assertThat(attaching.asMap()).isEqualTo(Map.of(VAR, "attach"));
    // and @AfterEach: the completer's own context is untouched although the stage threw there.
  }

  /* ---- the brief's cases, each on its own ---- */

  @Test
  void stageAttachedInContextA_futureCompletedFromAThreadInContextB_stageSeesA()
      throws Exception {
    CompletableFuture<String> future = new CompletableFuture<>();
    Probe probe = new Probe("attached in A");
    Support.inNewContext(
        () -> {
          VAR.set("A");
          future.thenApply(v -> probe.fire(v));
        });
    Support.inNewContext(
        () -> {
          VAR.set("B");
          Thread completer = new Thread(() -> future.complete("value"));
          completer.start();
          Support.joinBounded(completer);
          assertThat(VAR.get()).isEqualTo("B");
        });

    assertThat(probe.await().var()).isEqualTo("A");
  }

  @Test
  void allOf_anyOf_dependentsRunWhereTheyWereAttached_whoeverCompletesTheLastFuture()
      throws Exception {
    CompletableFuture<String> a = new CompletableFuture<>();
    CompletableFuture<String> b = new CompletableFuture<>();
    Probe ofAll = new Probe("of allOf");
    Probe ofAny = new Probe("of anyOf");
    Support.inNewContext(
        () -> {
          VAR.set("attach to allOf");
          CompletableFuture.allOf(a, b).thenRun(() -> ofAll.fire());
          VAR.set("attach to anyOf");
          CompletableFuture.anyOf(a, b).thenAccept(v -> ofAny.fire(v));
          VAR.set("after");
        });
    completeOn(virtualCompleter, () -> a.complete("a"));
    assertThat(ofAny.await().var()).isEqualTo("attach to anyOf");
    assertThat(ofAll.fired()).isFalse();
    completeOn(platformCompleter, () -> b.complete("b"));

    assertThat(ofAll.await().var()).isEqualTo("attach to allOf");
    assertThat(ofAll.await().thread()).isSameAs(platformCompleterThread);
  }

  @Test
  void stageAttachingAnotherStageInsideItsFunction_theInnerSeesTheFunctionsContext()
      throws Exception {
    CompletableFuture<String> source = new CompletableFuture<>();
    CompletableFuture<String> later = new CompletableFuture<>();
    Probe inner = new Probe("inner");
    Support.inNewContext(
        () -> {
          VAR.set("outer attach");
          source.thenAccept(
              v -> {
                VAR.set("set inside the outer stage");
                later.thenAccept(w -> inner.fire(w));
              });
        });
    completeOn(platformCompleter, () -> source.complete("value"));
    completeOn(virtualCompleter, () -> later.complete("later"));

    assertThat(inner.await().var()).isEqualTo("set inside the outer stage");
    assertThat(inner.await().thread()).isSameAs(virtualCompleterThread);
  }

  /* ---- derived futures ---- */

  @Test
  void derivedFutures_chainAcrossThreadsAndExecutors_eachStageSeesWhereItWasAttached()
      throws Exception {
    CompletableFuture<String> inner = new CompletableFuture<>();
    Probe supply = new Probe("supply");
    Probe apply = new Probe("apply");
    Probe compose = new Probe("compose");
    Probe whenComplete = new Probe("whenComplete");
    Probe handle = new Probe("handle");
    List<CompletableFuture<?>> chain = new ArrayList<>();

    Support.inNewContext(
        () -> {
          VAR.set("a");
          CompletableFuture<String> supplied =
              CompletableFuture.supplyAsync(() -> supply.fire(), stageExecutor);
          VAR.set("b");
          CompletableFuture<String> applied = supplied.thenApplyAsync(v -> apply.fire(v));
          VAR.set("c");
          CompletableFuture<String> composed =
              applied.thenCompose(
                  v -> {
                    compose.fire(v);
                    return inner; // completed later by the virtual completer
                  });
          VAR.set("d");
          CompletableFuture<String> completed =
              composed.whenCompleteAsync((v, x) -> whenComplete.fire(v, x), stageExecutor);
          VAR.set("e");
          CompletableFuture<String> handled = completed.handle((v, x) -> handle.fire(v, x));
          VAR.set("f");
          chain.addAll(List.of(supplied, applied, composed, completed, handled));
        });
    compose.await();
    assertThat(whenComplete.fired()).isFalse();
    completeOn(virtualCompleter, () -> inner.complete("inner"));

    assertThat(
            Stream.of(supply, apply, compose, whenComplete, handle)
                .map(p -> uncheckedAwait(p).var())
                .toList())
        .as("each stage sees the context current where it was attached")
        .containsExactly("a", "b", "c", "d", "e");
    assertThat(uncheckedAwait(handle).thread())
        .as("the last stage ran on the executor thread that ran the one before it")
        .isSameAs(stageExecutorThread);
    assertThat(await(chain.get(4))).isEqualTo("f[inner, null]");
  }

  @Test
  void thenCompose_innerFutureCompletedElsewhere_dependentsOfBothCarryTheirAttachingContext()
      throws Exception {
    CompletableFuture<String> inner = new CompletableFuture<>();
    Probe ofComposed = new Probe("of composed");
    Probe ofInner = new Probe("of inner");
    Support.inNewContext(
        () -> {
          VAR.set("attach to composed");
          CompletableFuture<String> composed =
              CompletableFuture.completedFuture("value").thenCompose(v -> inner);
          composed.thenApply(v -> ofComposed.fire(v));
          VAR.set("attach to inner");
          inner.thenApply(v -> ofInner.fire(v));
        });
    completeOn(platformCompleter, () -> inner.complete("inner"));

    assertThat(ofComposed.await().var()).isEqualTo("attach to composed");
    assertThat(ofInner.await().var())
        .as("under the agent every future's stages carry: the inner one's too")
        .isEqualTo("attach to inner");
  }

  @Test
  void thenCombine_otherFutureCompletesLastOnAnotherThread_functionSeesAttachingContext()
      throws Exception {
    CompletableFuture<String> other = new CompletableFuture<>();
    Probe probe = new Probe("combine");
    Support.inNewContext(
        () -> {
          VAR.set("attach");
          CompletableFuture.completedFuture("value").thenCombine(other, (v, o) -> probe.fire(v, o));
          VAR.set("after attaching");
        });
    assertThat(probe.fired()).isFalse();
    completeOn(virtualCompleter, () -> other.complete("other"));

    Seen seen = probe.await();
    assertThat(seen.var()).isEqualTo("attach");
    assertThat(seen.thread()).isSameAs(virtualCompleterThread);
    assertThat(seen.inputs()).containsExactly("value", "other");
  }

  @ParameterizedTest
  @EnumSource(Trigger.class)
  void copyAndMinimalStage_dependentsCarryTheContext(Trigger trigger) throws Exception {
    RuntimeException boom = new IllegalStateException("boom");
    CompletableFuture<String> original = new CompletableFuture<>();
    Probe ofCopy = new Probe("of copy");
    Probe ofMinimal = new Probe("of minimal");
    Probe ofFull = new Probe("of toCompletableFuture");
    Support.inNewContext(
        () -> {
          VAR.set("attach to copy");
          original.copy().whenComplete((v, x) -> ofCopy.fire(v, x));
          VAR.set("attach to minimal");
          CompletionStage<String> minimal = original.minimalCompletionStage();
          minimal.whenCompleteAsync((v, x) -> ofMinimal.fire(v, x), stageExecutor);
          VAR.set("attach to full");
          minimal.toCompletableFuture().whenComplete((v, x) -> ofFull.fire(v, x));
        });
    completeOn(
        platformCompleter,
        () -> {
          if (trigger == Trigger.SUCCESS) {
            original.complete("value");
          } else {
            original.completeExceptionally(boom);
          }
        });

    assertThat(ofCopy.await().var()).isEqualTo("attach to copy");
    assertThat(ofMinimal.await().var()).isEqualTo("attach to minimal");
    assertThat(ofFull.await().var()).isEqualTo("attach to full");
  }

  /* ---- supplyAsync, runAsync ---- */

  /** The four ways to start work. */
  enum Launch {
    SUPPLY_ASYNC,
    SUPPLY_ASYNC_WITH_EXECUTOR,
    RUN_ASYNC,
    RUN_ASYNC_WITH_EXECUTOR;

    CompletableFuture<?> start(Runnable work) {
      Supplier<String> supplier =
          () -> {
            work.run();
            return "supplied";
          };
      return switch (this) {
        case SUPPLY_ASYNC -> CompletableFuture.supplyAsync(supplier);
        case SUPPLY_ASYNC_WITH_EXECUTOR -> CompletableFuture.supplyAsync(supplier, stageExecutor);
        case RUN_ASYNC -> CompletableFuture.runAsync(work);
        case RUN_ASYNC_WITH_EXECUTOR -> CompletableFuture.runAsync(work, stageExecutor);
      };
    }

    boolean withExecutor() {
      return this == SUPPLY_ASYNC_WITH_EXECUTOR || this == RUN_ASYNC_WITH_EXECUTOR;
    }
  }

  @ParameterizedTest
  @EnumSource(Launch.class)
  void launch_workRunsInACopyOfTheCallersContextAsOfTheCall(Launch launch) throws Exception {
    CountDownLatch callerSetAgain = new CountDownLatch(1);
    Probe work = new Probe("work");
    Probe dependent = new Probe("dependent");
    Context caller = new Context();
    caller.call(
        () -> {
          VAR.set("caller");
          CompletableFuture<?> started =
              launch.start(
                  () -> {
                    // Reads only after the caller's next set: the copy was taken at the call.
                    Support.awaitUnchecked(callerSetAgain);
                    work.fire();
                  });
          VAR.set("caller, later");
          callerSetAgain.countDown();
          started.thenRun(() -> dependent.fire());
          return started;
        });

    Seen seen = work.await();
    assertThat(seen.var())
        .as("the work sees the caller's context as of the call")
        .isEqualTo("caller");
    assertThat(seen.sideBound()).isFalse();
    assertThat(dependent.await().var())
        .as("a dependent sees where it was attached")
        .isEqualTo("caller, later");
    assertThat(caller.asMap())
        .as("the work's sets never reach the caller")
        .isEqualTo(Map.of(VAR, "caller, later"));
    if (launch.withExecutor()) {
      assertThat(seen.thread()).isSameAs(stageExecutorThread);
    } else {
      assertThat(executorOf(seen.thread()))
          .as("the work ran where CompletableFuture.supplyAsync runs its supplier")
          .isEqualTo(executorOf(await(CompletableFuture.supplyAsync(Thread::currentThread))));
    }
  }

  @ParameterizedTest(name = "with executor: {0}")
  @EnumSource(
      value = Form.class,
      names = {"ASYNC", "ASYNC_EXECUTOR"})
  void completeAsync_supplierRunsInACopyOfTheCallersContext(Form form) throws Exception {
    // A pool of its own, with a value of its own: the supplier must neither see nor change it.
    Support.ProbedPool executor =
        new Support.ProbedPool(
            1,
            new Support.OwnContexts(Thread.ofPlatform().daemon().factory(), "executor's own"));
    try {
      CompletableFuture<String> future = new CompletableFuture<>();
      CountDownLatch callerSetAgain = new CountDownLatch(1);
      // On the default executor, a quiet probe: were it not carried, its sets would stay on a
      // common-pool worker, there for every later test to see.
      Probe probe = form == Form.ASYNC ? Probe.quiet("supplier") : new Probe("supplier");
      Context caller = new Context();
      caller.run(
          () -> {
            VAR.set("caller");
            Supplier<String> supplier =
                () -> {
                  Support.awaitUnchecked(callerSetAgain);
                  return probe.fire();
                };
            CompletableFuture<String> returned =
                form == Form.ASYNC
                    ? future.completeAsync(supplier)
                    : future.completeAsync(supplier, executor);
            assertThat(returned).isSameAs(future);
            VAR.set("caller, later");
            callerSetAgain.countDown();
          });

      assertThat(await(future)).isEqualTo("f[]");
      assertThat(probe.await().var()).isEqualTo("caller");
      assertThat(caller.asMap()).isEqualTo(Map.of(VAR, "caller, later"));
      if (form == Form.ASYNC_EXECUTOR) {
        assertThat(executor.ownMapping())
            .as("the supplier's sets did not stay on the executor's thread")
            .isEqualTo(Map.of(VAR, "executor's own"));
      }
    } finally {
      Support.terminate(executor);
    }
  }

  /* ---- timeouts ---- */

  @Test
  void orTimeout_timesOut_stageRunsInTheAttachingContext() throws Exception {
    CompletableFuture<String> future = new CompletableFuture<>();
    Probe probe = new Probe("on timeout");
    Support.inNewContext(
        () -> {
          VAR.set("attach");
          future.exceptionally(x -> probe.fire(x));
        });
    assertThat(future.orTimeout(1, MILLISECONDS)).isSameAs(future);

    Seen seen = probe.await();
    assertThat(seen.var()).isEqualTo("attach");
    assertThat(seen.inputs()).singleElement().isInstanceOf(TimeoutException.class);
    assertThat(seen.thread()).as("the JDK's timer thread").isNotSameAs(Thread.currentThread());
  }

  @Test
  void completeOnTimeout_timesOut_stageRunsInTheAttachingContext() throws Exception {
    CompletableFuture<String> future = new CompletableFuture<>();
    Probe probe = new Probe("on timeout");
    Support.inNewContext(
        () -> {
          VAR.set("attach");
          future.thenAccept(v -> probe.fire(v));
        });
    assertThat(future.completeOnTimeout("fallback", 1, MILLISECONDS)).isSameAs(future);

    Seen seen = probe.await();
    assertThat(seen.var()).isEqualTo("attach");
    assertThat(seen.inputs()).containsExactly("fallback");
    assertThat(await(future)).isEqualTo("fallback");
  }

  /* ---- where a stage is attached, not where its future was created ---- */

  @Test
  void futureCreatedInsideCall_stageAttachedOutside_runsInACopyOfTheOuterContext_noLeak()
      throws Exception {
    Support.inNewContext(
        () -> {
          VAR.set("outer");
          Context ctx = new Context();
          ctx.run(() -> VAR.set("ctx"));
          CompletableFuture<String> created =
              ctx.call(() -> CompletableFuture.completedFuture(VAR.get()));
          assertThat(created.join()).as("the creation ran in ctx").isEqualTo("ctx");

          String seen =
              created
                  .thenApply(
                      v -> {
                        String current = VAR.get();
                        VAR.set("set by the stage");
                        return current;
                      })
                  .join();

          assertThat(seen).as("attached in outer: runs in a copy of outer").isEqualTo("outer");
          assertThat(VAR.get())
              .as("without the agent the stage's set would leak into the attaching code")
              .isEqualTo("outer");
          assertThat(ctx.get(VAR)).isEqualTo("ctx");
        });
  }

  @Test
  void stageAttachedInsideCall_runsInACopyOfCtx_whenCompletedLaterElsewhere() throws Exception {
    CompletableFuture<String> original = new CompletableFuture<>();
    Probe probe = new Probe("attached in ctx");
    Context ctx = new Context();
    ctx.run(() -> VAR.set("ctx"));
    Context outer = new Context();
    outer.call(
        () -> {
          VAR.set("outer");
          return ctx.call(() -> original.thenApply(v -> probe.fire(v)));
        });
    completeOn(virtualCompleter, () -> original.complete("value"));

    Seen seen = probe.await();
    assertThat(seen.var()).as("the stage runs in a copy of ctx").isEqualTo("ctx");
    assertThat(seen.thread()).as("later, elsewhere").isSameAs(virtualCompleterThread);
    assertThat(ctx.asMap()).as("its set stays in its copy").isEqualTo(Map.of(VAR, "ctx"));
    assertThat(outer.asMap()).isEqualTo(Map.of(VAR, "outer"));
  }

  /* ---- helpers ---- */

  /** What a stage's function saw when it ran. */
  record Seen(String var, boolean sideBound, Thread thread, List<Object> inputs) {}

  /**
   * The function of a stage: records what it saw, then (unless quiet) sets both variables in its
   * own context, where nothing else may see them.
   */
  static final class Probe {
    private final String label;
    private final boolean sets;
    private final CompletableFuture<Seen> seen = new CompletableFuture<>();
    private final AtomicInteger calls = new AtomicInteger();

    Probe(String label) {
      this(label, true);
    }

    private Probe(String label, boolean sets) {
      this.label = label;
      this.sets = sets;
    }

    static Probe quiet(String label) {
      return new Probe(label, false);
    }

    /** The function's body; returns a value that depends only on the inputs. */
    String fire(Object... inputs) {
      if (calls.incrementAndGet() == 1) {
        seen.complete(
            new Seen(
                VAR.getOrDefault(UNBOUND),
                SIDE.isBound(),
                Thread.currentThread(),
                Arrays.asList(inputs)));
      }
      if (sets) {
        VAR.set("set by " + label);
        SIDE.set(label);
      }
      return "f" + Arrays.toString(inputs);
    }

    boolean fired() {
      return seen.isDone();
    }

    int calls() {
      return calls.get();
    }

    Seen await() throws Exception {
      return seen.get(TIMEOUT_SECONDS, SECONDS);
    }

    @Override
    public String toString() {
      return "Probe[" + label + "]";
    }
  }

  private static Seen uncheckedAwait(Probe probe) {
    try {
      return probe.await();
    } catch (Exception e) {
      throw new AssertionError(probe + " did not fire", e);
    }
  }

  /**
   * How a failure reached a function or a future: its class, its cause's class, and whether it is
   * the test's exception itself or wraps it.
   */
  record Shape(Class<?> type, Class<?> causeType, boolean isIt, boolean wrapsIt) {}

  private static Object shape(Object input, Throwable boom) {
    if (!(input instanceof Throwable thrown)) {
      return input;
    }
    Throwable cause = thrown.getCause();
    return new Shape(
        thrown.getClass(),
        cause == null ? null : cause.getClass(),
        thrown == boom,
        cause != null && cause == boom);
  }

  private static List<Object> shapes(List<Object> inputs, Throwable boom) {
    List<Object> shapes = new ArrayList<>();
    for (Object input : inputs) {
      shapes.add(shape(input, boom));
    }
    return shapes;
  }

  /** The shape of the one failure among a function's inputs. */
  private static Object failureShape(List<Object> inputs, Throwable boom) {
    List<Object> failures = inputs.stream().filter(Throwable.class::isInstance).toList();
    assertThat(failures).as("the function was given the failure").hasSize(1);
    return shape(failures.get(0), boom);
  }

  /** The value of {@code future} (waiting, bounded), or the shape of its failure. */
  private static Object outcomeShape(CompletableFuture<?> future, Throwable boom) throws Exception {
    try {
      return future.get(TIMEOUT_SECONDS, SECONDS);
    } catch (ExecutionException | CancellationException e) {
      return shape(storedFailure(future), boom);
    }
  }

  /** The exception {@code future}, which is complete, holds, as a dependent is given it. */
  private static Throwable storedFailure(CompletableFuture<?> future) {
    Throwable[] stored = new Throwable[1];
    // Complete: whenComplete runs at once, on this thread.
    future.whenComplete((v, x) -> stored[0] = x);
    return stored[0];
  }

  /** Where a thread takes its work from: its pool, for a pool thread. */
  private static Object executorOf(Thread thread) {
    return thread instanceof ForkJoinWorkerThread worker ? worker.getPool() : thread.getClass();
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.get(TIMEOUT_SECONDS, SECONDS);
  }
}
