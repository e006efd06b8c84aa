package org.contextvars4j.concurrent;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
 * Tests of {@link ContextFutures} and the futures it returns. The rule under test: a unit of
 * asynchronous work runs in a copy of the context current where the work was created, and a
 * dependent stage runs its function in a copy of the context current where the stage was attached,
 * whichever thread completes the future and whichever thread runs the stage. Apart from the
 * context, the futures must behave exactly as plain {@link CompletableFuture}s: wherever they could
 * differ (values, the exception a function is given, the outcome of a derived future), the test
 * compares with a plain twin doing the same thing.
 *
 * <p>Every {@link CompletionStage} method, in its sync, {@code *Async} and {@code *Async(executor)}
 * forms, is a row of {@link #stageMethods()}; {@link
 * #stageMethods_table_listsEveryCompletionStageMethod} checks by reflection that no method is
 * missing.
 *
 * <p>The threads around each test are adversarial: the threads that complete the futures (one
 * platform, one virtual) and the thread of the executor given to the {@code *Async(executor)} forms
 * are plain, unwrapped threads whose own contexts hold other values of the variable under test.
 * After each test they must still hold exactly those values: no stage may leave a set on the thread
 * that ran it. Every wait is bounded by {@link #TIMEOUT_SECONDS}.
 */
final class ContextFuturesTest {

  /** The bound on every wait: generous, so that only a real hang trips it. */
  private static final long TIMEOUT_SECONDS = 30;

  /** The variable whose value each stage must see: the attaching code's. */
  private static final ContextVar<String> VAR = ContextVar.named("var");

  /** Set only by stages: bound anywhere else, it is a stage's set that leaked. */
  private static final ContextVar<String> SIDE = ContextVar.named("side");

  /** What a stage records when {@link #VAR} is not bound at all. */
  private static final String UNBOUND = "<unbound>";

  private static final String PLATFORM_COMPLETER = "platform completer's own value";
  private static final String VIRTUAL_COMPLETER = "virtual completer's own value";
  private static final String STAGE_EXECUTOR = "stage executor's own value";

  /** A plain platform thread that completes futures, with {@link #PLATFORM_COMPLETER} set. */
  private static ExecutorService platformCompleter;

  /** A plain virtual thread that completes futures, with {@link #VIRTUAL_COMPLETER} set. */
  private static ExecutorService virtualCompleter;

  /** The executor of the {@code *Async(executor)} forms, unwrapped, {@link #STAGE_EXECUTOR} set. */
  private static ExecutorService stageExecutor;

  private static Thread platformCompleterThread;
  private static Thread virtualCompleterThread;
  private static Thread stageExecutorThread;

  @BeforeAll
  static void startAdversarialThreads() throws Exception {
    platformCompleter =
        Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("platform-completer").daemon().factory());
    virtualCompleter =
        Executors.newSingleThreadExecutor(Thread.ofVirtual().name("virtual-completer").factory());
    stageExecutor =
        Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("stage-executor").daemon().factory());
    // Set in each thread's own (base) context, not in a copy: a stage that ran in the thread's
    // current context instead of its own copy would see these values, and could change them.
    platformCompleterThread = setOwnValue(platformCompleter, PLATFORM_COMPLETER);
    virtualCompleterThread = setOwnValue(virtualCompleter, VIRTUAL_COMPLETER);
    stageExecutorThread = setOwnValue(stageExecutor, STAGE_EXECUTOR);
    assertThat(virtualCompleterThread.isVirtual()).isTrue();
  }

  private static Thread setOwnValue(ExecutorService executor, String value) throws Exception {
    return await(
        executor.submit(
            () -> {
              VAR.set(value);
              return Thread.currentThread();
            }));
  }

  @AfterAll
  static void stopAdversarialThreads() throws InterruptedException {
    for (ExecutorService executor : List.of(platformCompleter, virtualCompleter, stageExecutor)) {
      executor.shutdown();
      assertThat(executor.awaitTermination(TIMEOUT_SECONDS, SECONDS)).isTrue();
    }
  }

  @AfterEach
  void everyThreadsOwnContextIsAsItWas() throws Exception {
    assertThat(Context.copyCurrent().size())
        .as("the test left no value in the test thread's own context")
        .isZero();
    assertThat(ownContextOf(platformCompleter))
        .as("no stage left a set on the platform thread that completed its future")
        .isEqualTo(Map.of(VAR, PLATFORM_COMPLETER));
    assertThat(ownContextOf(virtualCompleter))
        .as("no stage left a set on the virtual thread that completed its future")
        .isEqualTo(Map.of(VAR, VIRTUAL_COMPLETER));
    assertThat(ownContextOf(stageExecutor))
        .as("no stage left a set on the executor thread that ran it")
        .isEqualTo(Map.of(VAR, STAGE_EXECUTOR));
  }

  /** Runs after every task handed to {@code executor} before it (each is a single thread). */
  private static Map<ContextVar<?>, Object> ownContextOf(ExecutorService executor)
      throws Exception {
    return await(executor.submit(() -> Context.copyCurrent().asMap()));
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

  /**
   * One {@link CompletionStage} method.
   *
   * @param name the method's name
   * @param parameterTypes its parameter types, as reflection reports them
   * @param trigger when the function runs
   * @param attach calls exactly this method
   */
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
    // thenApply, thenAccept, thenRun
    forms(
        rows,
        "thenApply",
        ok,
        List.of(Function.class),
        (s, p, e) -> s.thenApply(v -> p.fire(v)),
        (s, p, e) -> s.thenApplyAsync(v -> p.fire(v)),
        (s, p, e) -> s.thenApplyAsync(v -> p.fire(v), e));
    forms(
        rows,
        "thenAccept",
        ok,
        List.of(Consumer.class),
        (s, p, e) -> s.thenAccept(v -> p.fire(v)),
        (s, p, e) -> s.thenAcceptAsync(v -> p.fire(v)),
        (s, p, e) -> s.thenAcceptAsync(v -> p.fire(v), e));
    forms(
        rows,
        "thenRun",
        ok,
        List.of(Runnable.class),
        (s, p, e) -> s.thenRun(() -> p.fire()),
        (s, p, e) -> s.thenRunAsync(() -> p.fire()),
        (s, p, e) -> s.thenRunAsync(() -> p.fire(), e));
    // Both
    forms(
        rows,
        "thenCombine",
        ok,
        List.of(CompletionStage.class, BiFunction.class),
        (s, p, e) -> s.thenCombine(other(), (v, o) -> p.fire(v, o)),
        (s, p, e) -> s.thenCombineAsync(other(), (v, o) -> p.fire(v, o)),
        (s, p, e) -> s.thenCombineAsync(other(), (v, o) -> p.fire(v, o), e));
    forms(
        rows,
        "thenAcceptBoth",
        ok,
        List.of(CompletionStage.class, BiConsumer.class),
        (s, p, e) -> s.thenAcceptBoth(other(), (v, o) -> p.fire(v, o)),
        (s, p, e) -> s.thenAcceptBothAsync(other(), (v, o) -> p.fire(v, o)),
        (s, p, e) -> s.thenAcceptBothAsync(other(), (v, o) -> p.fire(v, o), e));
    forms(
        rows,
        "runAfterBoth",
        ok,
        List.of(CompletionStage.class, Runnable.class),
        (s, p, e) -> s.runAfterBoth(other(), () -> p.fire()),
        (s, p, e) -> s.runAfterBothAsync(other(), () -> p.fire()),
        (s, p, e) -> s.runAfterBothAsync(other(), () -> p.fire(), e));
    // Either
    forms(
        rows,
        "applyToEither",
        ok,
        List.of(CompletionStage.class, Function.class),
        (s, p, e) -> s.applyToEither(never(), v -> p.fire(v)),
        (s, p, e) -> s.applyToEitherAsync(never(), v -> p.fire(v)),
        (s, p, e) -> s.applyToEitherAsync(never(), v -> p.fire(v), e));
    forms(
        rows,
        "acceptEither",
        ok,
        List.of(CompletionStage.class, Consumer.class),
        (s, p, e) -> s.acceptEither(never(), v -> p.fire(v)),
        (s, p, e) -> s.acceptEitherAsync(never(), v -> p.fire(v)),
        (s, p, e) -> s.acceptEitherAsync(never(), v -> p.fire(v), e));
    forms(
        rows,
        "runAfterEither",
        ok,
        List.of(CompletionStage.class, Runnable.class),
        (s, p, e) -> s.runAfterEither(never(), () -> p.fire()),
        (s, p, e) -> s.runAfterEitherAsync(never(), () -> p.fire()),
        (s, p, e) -> s.runAfterEitherAsync(never(), () -> p.fire(), e));
    // thenCompose
    forms(
        rows,
        "thenCompose",
        ok,
        List.of(Function.class),
        (s, p, e) -> s.thenCompose(v -> CompletableFuture.completedFuture(p.fire(v))),
        (s, p, e) -> s.thenComposeAsync(v -> CompletableFuture.completedFuture(p.fire(v))),
        (s, p, e) -> s.thenComposeAsync(v -> CompletableFuture.completedFuture(p.fire(v)), e));
    // handle, whenComplete: run on success and on failure; the failures have their own test.
    forms(
        rows,
        "handle",
        ok,
        List.of(BiFunction.class),
        (s, p, e) -> s.handle((v, x) -> p.fire(v, x)),
        (s, p, e) -> s.handleAsync((v, x) -> p.fire(v, x)),
        (s, p, e) -> s.handleAsync((v, x) -> p.fire(v, x), e));
    forms(
        rows,
        "whenComplete",
        ok,
        List.of(BiConsumer.class),
        (s, p, e) -> s.whenComplete((v, x) -> p.fire(v, x)),
        (s, p, e) -> s.whenCompleteAsync((v, x) -> p.fire(v, x)),
        (s, p, e) -> s.whenCompleteAsync((v, x) -> p.fire(v, x), e));
    // exceptionally*: run only on failure.
    Trigger failed = Trigger.FAILURE;
    forms(
        rows,
        "exceptionally",
        failed,
        List.of(Function.class),
        (s, p, e) -> s.exceptionally(x -> p.fire(x)),
        (s, p, e) -> s.exceptionallyAsync(x -> p.fire(x)),
        (s, p, e) -> s.exceptionallyAsync(x -> p.fire(x), e));
    forms(
        rows,
        "exceptionallyCompose",
        failed,
        List.of(Function.class),
        (s, p, e) -> s.exceptionallyCompose(x -> CompletableFuture.completedFuture(p.fire(x))),
        (s, p, e) -> s.exceptionallyComposeAsync(x -> CompletableFuture.completedFuture(p.fire(x))),
        (s, p, e) ->
            s.exceptionallyComposeAsync(x -> CompletableFuture.completedFuture(p.fire(x)), e));
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

  @Test
  void stageMethods_table_listsEveryCompletionStageMethod() {
    Set<String> inTable = new TreeSet<>();
    for (StageMethod method : stageMethods()) {
      assertThat(inTable.add(method.signature())).as("listed once: %s", method).isTrue();
    }
    Set<String> ofCompletionStage = new TreeSet<>();
    for (Method method : CompletionStage.class.getMethods()) {
      if (!method.getName().equals("toCompletableFuture")) {
        ofCompletionStage.add(signature(method));
      }
    }

    assertThat(inTable)
        .as("the table lists exactly the CompletionStage methods (toCompletableFuture aside)")
        .isEqualTo(ofCompletionStage)
        .hasSize(42);
    assertThat(stageMethods().stream().filter(m -> m.form() == Form.SYNC).count()).isEqualTo(14);
  }

  @Test
  void stageMethods_everyCompletableFutureMethodTakingAFunction_isInTheTableOrCompleteAsync() {
    Set<Class<?>> functional =
        Set.of(
            Function.class,
            BiFunction.class,
            Consumer.class,
            BiConsumer.class,
            Runnable.class,
            Supplier.class);
    Set<String> takingAFunction = new TreeSet<>();
    for (Method method : CompletableFuture.class.getMethods()) {
      if (!Modifier.isStatic(method.getModifiers())
          && Arrays.stream(method.getParameterTypes()).anyMatch(functional::contains)) {
        takingAFunction.add(signature(method));
      }
    }
    Set<String> covered = new TreeSet<>();
    stageMethods().forEach(m -> covered.add(m.signature()));
    // completeAsync has its own test below.
    covered.add("completeAsync(Supplier)");
    covered.add("completeAsync(Supplier, Executor)");

    assertThat(takingAFunction)
        .as("a CompletableFuture method that takes a function and is not tested here")
        .isEqualTo(covered);
  }

  private static String signature(Method method) {
    return StageMethod.signature(method.getName(), List.of(method.getParameterTypes()));
  }

  /** How the source future of a test is made and completed. */
  enum Completion {
    /** Complete before the stage is attached: a sync stage runs at once, on the test thread. */
    ALREADY_COMPLETE,
    /** A {@code ContextFutures} future completed, later, by the platform completer. */
    COMPLETED_BY_PLATFORM_THREAD,
    /** A plain future completed, later, by the virtual completer; the stage is on its wrap. */
    ORIGINAL_COMPLETED_BY_VIRTUAL_THREAD
  }

  /** A source future and what completes it (nothing, when it is already complete). */
  private record Source(CompletableFuture<String> future, Body complete, Thread completingThread) {}

  private static Source source(Completion completion, Trigger trigger, Throwable failure) {
    return switch (completion) {
      case ALREADY_COMPLETE ->
          new Source(
              trigger == Trigger.SUCCESS
                  ? ContextFutures.completedFuture("value")
                  : ContextFutures.wrap(CompletableFuture.<String>failedFuture(failure)),
              () -> {},
              Thread.currentThread());
      case COMPLETED_BY_PLATFORM_THREAD -> {
        CompletableFuture<String> future = ContextFutures.wrap(new CompletableFuture<>());
        yield new Source(
            future,
            () -> runOn(platformCompleter, () -> settle(future, trigger, failure)),
            platformCompleterThread);
      }
      case ORIGINAL_COMPLETED_BY_VIRTUAL_THREAD -> {
        CompletableFuture<String> original = new CompletableFuture<>();
        yield new Source(
            ContextFutures.wrap(original),
            () -> runOn(virtualCompleter, () -> settle(original, trigger, failure)),
            virtualCompleterThread);
      }
    };
  }

  private static void settle(CompletableFuture<String> future, Trigger trigger, Throwable failure) {
    if (trigger == Trigger.SUCCESS) {
      assertThat(future.complete("value")).isTrue();
    } else {
      assertThat(future.completeExceptionally(failure)).isTrue();
    }
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
        .as("the function sees the context where it was attached, not the completing thread's")
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
    assertThat(derived)
        .as("the derived future is a ContextFutures future")
        .isInstanceOf(ContextFuture.class);
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

    // Apart from the context, exactly what a plain CompletableFuture does.
    CompletableFuture<String> plainSource =
        method.trigger() == Trigger.SUCCESS
            ? CompletableFuture.completedFuture("value")
            : CompletableFuture.failedFuture(boom);
    Probe twin = Probe.quiet("twin");
    CompletableFuture<?> plainDerived = method.attach().attach(plainSource, twin, stageExecutor);
    assertThat(shapes(seenFirst.inputs(), boom))
        .as("the function is given what the plain twin's function is given")
        .isEqualTo(shapes(twin.await().inputs(), boom));
    assertThat(outcomeShape(derived, boom))
        .as("the derived future completes as the plain twin's")
        .isEqualTo(outcomeShape(plainDerived, boom));
  }

  /** Also catches nulls: every function must be checked, as the JDK checks it. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("stageMethods")
  void stageMethod_nullFunctionOrExecutor_throwsNpe(StageMethod method) throws Exception {
    Method reflected =
        CompletionStage.class.getMethod(
            method.name(), method.parameterTypes().toArray(Class<?>[]::new));
    for (CompletableFuture<String> future :
        List.of(ContextFutures.completedFuture("value"), ContextFutures.wrap(never()))) {
      Object[] nullFunction = arguments(reflected);
      for (int i = 0; i < nullFunction.length; i++) {
        if (isFunctional(reflected.getParameterTypes()[i])) {
          nullFunction[i] = null;
        }
      }
      assertThat(invoke(reflected, future, nullFunction))
          .as("%s with a null function", method)
          .isInstanceOf(NullPointerException.class);
      if (method.form() == Form.ASYNC_EXECUTOR) {
        Object[] nullExecutor = arguments(reflected);
        nullExecutor[nullExecutor.length - 1] = null;
        assertThat(invoke(reflected, future, nullExecutor))
            .as("%s with a null executor", method)
            .isInstanceOf(NullPointerException.class);
      }
    }
  }

  /* ---- failures: exceptionally, handle, whenComplete ---- */

  /** How a source fails; each can be made on a ContextFutures future and on a plain one. */
  enum Failure {
    COMPLETED_EXCEPTIONALLY,
    THROWN_BY_A_STAGE,
    THROWN_BY_THE_SUPPLIER,
    CANCELLED
  }

  /** A failing source: {@code fail} makes it fail, on the platform completer. */
  private record Failing(CompletableFuture<String> future, Body fail) {}

  private static Failing failing(Failure failure, boolean carrying, RuntimeException boom) {
    return switch (failure) {
      case COMPLETED_EXCEPTIONALLY -> {
        CompletableFuture<String> future = newFuture(carrying);
        yield new Failing(
            future, () -> runOn(platformCompleter, () -> future.completeExceptionally(boom)));
      }
      case THROWN_BY_A_STAGE -> {
        CompletableFuture<String> gate = newFuture(carrying);
        CompletableFuture<String> future =
            gate.thenApply(
                v -> {
                  throw boom;
                });
        yield new Failing(future, () -> runOn(platformCompleter, () -> gate.complete("value")));
      }
      case THROWN_BY_THE_SUPPLIER -> {
        CountDownLatch go = new CountDownLatch(1);
        Supplier<String> supplier =
            () -> {
              awaitUninterruptibly(go);
              throw boom;
            };
        CompletableFuture<String> future =
            carrying
                ? ContextFutures.supplyAsync(supplier, stageExecutor)
                : CompletableFuture.supplyAsync(supplier, stageExecutor);
        yield new Failing(future, go::countDown);
      }
      case CANCELLED -> {
        CompletableFuture<String> future = newFuture(carrying);
        yield new Failing(future, () -> runOn(platformCompleter, () -> future.cancel(false)));
      }
    };
  }

  private static CompletableFuture<String> newFuture(boolean carrying) {
    return carrying ? ContextFutures.wrap(new CompletableFuture<>()) : new CompletableFuture<>();
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
  void failureMethod_failedSource_runsInAttachingContextAndSeesTheFailureAsThePlainTwin(
      StageMethod method, Failure failure) throws Exception {
    RuntimeException boom = new IllegalStateException("boom");
    Failing ours = failing(failure, true, boom);
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

    Failing plain = failing(failure, false, boom);
    Probe twin = Probe.quiet("twin");
    CompletableFuture<?> plainDerived = method.attach().attach(plain.future(), twin, stageExecutor);
    plain.fail().run();
    Object seenByTwin = failureShape(twin.await().inputs(), boom);

    assertThat(failureShape(seen.inputs(), boom))
        .as("the same exception, wrapped or not exactly as for a plain CompletableFuture")
        .isEqualTo(seenByTwin);
    assertThat(outcomeShape(derived, boom))
        .as("the derived future fails or recovers as the plain twin's")
        .isEqualTo(outcomeShape(plainDerived, boom));
  }

  @Test
  void stage_functionThrows_derivedFailsAsForAPlainFutureAndNoSetLeaks() throws Exception {
    RuntimeException boom = new IllegalStateException("boom");
    CompletableFuture<String> source = ContextFutures.wrap(new CompletableFuture<>());
    Context attaching = new Context();
    CompletableFuture<String> derived =
        attaching.call(
            () -> {
              VAR.set("attach");
              return source.thenApply(
                  v -> {
                    VAR.set("set before throwing");
                    SIDE.set("set before throwing");
                    throw boom;
                  });
            });
    CompletableFuture<String> plainDerived =
        CompletableFuture.completedFuture("value")
            .thenApply(
                v -> {
                  throw boom;
                });

    runOn(platformCompleter, () -> source.complete("value"));

    assertThat(outcomeShape(derived, boom)).isEqualTo(outcomeShape(plainDerived, boom));
    assertThat(catchThrowable(() -> derived.get(TIMEOUT_SECONDS, SECONDS))).cause().isSameAs(boom);
    assertThat(attaching.asMap()).isEqualTo(Map.of(VAR, "attach"));
    // and @AfterEach: the completer's own context is untouched although the stage threw there.
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

    inNewContext(
        () -> {
          VAR.set("a");
          CompletableFuture<String> supplied =
              ContextFutures.supplyAsync(() -> supply.fire(), stageExecutor);
          VAR.set("b");
          CompletableFuture<String> applied = supplied.thenApplyAsync(v -> apply.fire(v));
          VAR.set("c");
          CompletableFuture<String> composed =
              applied.thenCompose(
                  v -> {
                    compose.fire(v);
                    return inner; // plain, completed later by the virtual completer
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
    runOn(virtualCompleter, () -> inner.complete("inner"));

    assertThat(
            Stream.of(supply, apply, compose, whenComplete, handle)
                .map(p -> uncheckedAwait(p).var())
                .toList())
        .as("each stage sees the context current where it was attached")
        .containsExactly("a", "b", "c", "d", "e");
    assertThat(uncheckedAwait(handle).thread())
        .as("the last stage ran on the executor thread that ran the one before it")
        .isSameAs(stageExecutorThread);
    assertThat(chain).allMatch(ContextFuture.class::isInstance);
    assertThat(await(chain.get(4))).isEqualTo("f[inner, null]");
  }

  @Test
  void thenCompose_innerPlainFutureCompletedElsewhere_dependentsOfTheResultCarryTheContext()
      throws Exception {
    CompletableFuture<String> inner = new CompletableFuture<>();
    Probe ofComposed = new Probe("of composed");
    Probe ofInner = Probe.quiet("of inner"); // runs in the completer's own context: must not set
    inNewContext(
        () -> {
          VAR.set("attach");
          CompletableFuture<String> composed =
              ContextFutures.completedFuture("value").thenCompose(v -> inner);
          composed.thenApply(v -> ofComposed.fire(v));
          inner.thenApply(v -> ofInner.fire(v));
        });
    runOn(platformCompleter, () -> inner.complete("inner"));

    assertThat(ofComposed.await().var())
        .as("the future thenCompose returned carries the rule, whatever the inner future is")
        .isEqualTo("attach");
    assertThat(ofInner.await().var())
        .as("a stage of the plain inner future runs in the completing thread's context")
        .isEqualTo(PLATFORM_COMPLETER);
  }

  @Test
  void thenCombine_otherPlainFutureCompletesLastOnAnotherThread_functionSeesAttachingContext()
      throws Exception {
    CompletableFuture<String> other = new CompletableFuture<>();
    Probe probe = new Probe("combine");
    inNewContext(
        () -> {
          VAR.set("attach");
          ContextFutures.completedFuture("value").thenCombine(other, (v, o) -> probe.fire(v, o));
          VAR.set("after attaching");
        });
    assertThat(probe.fired()).isFalse();
    runOn(virtualCompleter, () -> other.complete("other"));

    Seen seen = probe.await();
    assertThat(seen.var()).isEqualTo("attach");
    assertThat(seen.thread()).isSameAs(virtualCompleterThread);
    assertThat(seen.inputs()).containsExactly("value", "other");
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
        case SUPPLY_ASYNC -> ContextFutures.supplyAsync(supplier);
        case SUPPLY_ASYNC_WITH_EXECUTOR -> ContextFutures.supplyAsync(supplier, stageExecutor);
        case RUN_ASYNC -> ContextFutures.runAsync(work);
        case RUN_ASYNC_WITH_EXECUTOR -> ContextFutures.runAsync(work, stageExecutor);
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
    CompletableFuture<?> future =
        caller.call(
            () -> {
              VAR.set("caller");
              CompletableFuture<?> started =
                  launch.start(
                      () -> {
                        // Reads only after the caller's next set: the copy was taken at the call.
                        awaitUninterruptibly(callerSetAgain);
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
    assertThat(future).isInstanceOf(ContextFuture.class);
    if (launch.withExecutor()) {
      assertThat(seen.thread()).isSameAs(stageExecutorThread);
    } else {
      assertThat(executorOf(seen.thread()))
          .as("the work ran where CompletableFuture.supplyAsync runs its supplier")
          .isEqualTo(executorOf(await(CompletableFuture.supplyAsync(Thread::currentThread))));
    }
  }

  @Test
  void defaultExecutor_isTheJdksDefaultExecutor() throws Exception {
    Executor jdks = new CompletableFuture<>().defaultExecutor();
    List<CompletableFuture<?>> ours =
        List.of(
            ContextFutures.supplyAsync(() -> "v"),
            ContextFutures.runAsync(() -> {}),
            ContextFutures.completedFuture("v"),
            ContextFutures.wrap(new CompletableFuture<>()),
            ContextFutures.completedFuture("v").thenApplyAsync(v -> v));

    assertThat(ours).extracting(CompletableFuture::defaultExecutor).containsOnly(jdks);
    for (CompletableFuture<?> future : ours.subList(0, 2)) {
      await(future);
    }
  }

  @ParameterizedTest
  @EnumSource(Launch.class)
  void launch_workThrows_failsAsThePlainCompletableFutureDoes(Launch launch) throws Exception {
    RuntimeException boom = new IllegalStateException("boom");
    Runnable work =
        () -> {
          VAR.set("set before throwing");
          throw boom;
        };
    CompletableFuture<?> ours = launch.start(work);
    Supplier<String> throwing =
        () -> {
          throw boom;
        };
    Runnable throwingRunnable =
        () -> {
          throw boom;
        };
    CompletableFuture<?> plain =
        switch (launch) {
          case SUPPLY_ASYNC -> CompletableFuture.supplyAsync(throwing);
          case SUPPLY_ASYNC_WITH_EXECUTOR -> CompletableFuture.supplyAsync(throwing, stageExecutor);
          case RUN_ASYNC -> CompletableFuture.runAsync(throwingRunnable);
          case RUN_ASYNC_WITH_EXECUTOR ->
              CompletableFuture.runAsync(throwingRunnable, stageExecutor);
        };

    assertThat(outcomeShape(ours, boom)).isEqualTo(outcomeShape(plain, boom));
    assertThat(catchThrowable(() -> ours.get(TIMEOUT_SECONDS, SECONDS))).cause().isSameAs(boom);
  }

  @Test
  void nullArguments_throwNpe() {
    Supplier<String> supplier = () -> "v";
    Runnable action = () -> {};
    assertThatNullPointerException().isThrownBy(() -> ContextFutures.supplyAsync(null));
    assertThatNullPointerException()
        .isThrownBy(() -> ContextFutures.supplyAsync(null, stageExecutor));
    assertThatNullPointerException().isThrownBy(() -> ContextFutures.supplyAsync(supplier, null));
    assertThatNullPointerException().isThrownBy(() -> ContextFutures.runAsync(null));
    assertThatNullPointerException().isThrownBy(() -> ContextFutures.runAsync(null, stageExecutor));
    assertThatNullPointerException().isThrownBy(() -> ContextFutures.runAsync(action, null));
    assertThatNullPointerException()
        .isThrownBy(() -> ContextFutures.wrap((CompletableFuture<String>) null));
    assertThatNullPointerException()
        .isThrownBy(() -> ContextFutures.wrap((CompletionStage<String>) null));
    CompletableFuture<String> future = ContextFutures.wrap(new CompletableFuture<>());
    assertThatNullPointerException().isThrownBy(() -> future.completeAsync(null));
    assertThatNullPointerException().isThrownBy(() -> future.completeAsync(null, stageExecutor));
    assertThatNullPointerException().isThrownBy(() -> future.completeAsync(supplier, null));
    assertThat(future.isDone()).as("nothing was started").isFalse();
  }

  /* ---- completedFuture ---- */

  @Test
  void completedFuture_isCompleteWithTheValue_nullIncluded() throws Exception {
    CompletableFuture<String> future = ContextFutures.completedFuture("value");
    CompletableFuture<String> ofNull = ContextFutures.completedFuture(null);

    assertThat(future.isDone()).isTrue();
    assertThat(future.getNow("absent")).isEqualTo("value");
    assertThat(ofNull.isDone()).isTrue();
    assertThat(ofNull.getNow("absent")).isNull();
    assertThat(ofNull.isCompletedExceptionally()).isFalse();
    Probe probe = new Probe("of completed");
    inNewContext(
        () -> {
          VAR.set("attach");
          ofNull.thenAcceptAsync(v -> probe.fire(v), stageExecutor);
        });
    assertThat(probe.await().var()).isEqualTo("attach");
    assertThat(probe.await().inputs()).containsExactly((Object) null);
  }

  /* ---- wrap ---- */

  @Test
  void wrap_originalCompletesLater_sameValue() throws Exception {
    CompletableFuture<String> original = new CompletableFuture<>();
    CompletableFuture<String> wrapped = ContextFutures.wrap(original);

    assertThat(wrapped).isNotSameAs(original);
    assertThat(wrapped.isDone()).isFalse();
    runOn(virtualCompleter, () -> original.complete("value"));
    assertThat(await(wrapped)).isEqualTo("value");
  }

  @ParameterizedTest
  @EnumSource(
      value = Failure.class,
      names = {"COMPLETED_EXCEPTIONALLY", "THROWN_BY_A_STAGE"})
  void wrap_originalFailsLater_theSameExceptionInstance(Failure failure) throws Exception {
    RuntimeException boom = new IllegalStateException("boom");
    Failing original = failing(failure, false, boom);
    CompletableFuture<String> wrapped = ContextFutures.wrap(original.future());
    original.fail().run();

    Throwable ofOriginal = await(original.future().handle((v, x) -> x));
    Throwable ofWrapped = await(wrapped.handle((v, x) -> x));
    assertThat(ofWrapped)
        .as("the wrapped future holds the very exception the original holds")
        .isSameAs(ofOriginal);
    assertThat(ofOriginal == boom || ofOriginal.getCause() == boom).isTrue();
  }

  @Test
  void wrap_alreadyCompleteOriginal_isCompleteAtOnceWithTheSameOutcome() {
    RuntimeException boom = new IllegalStateException("boom");
    CompletableFuture<String> value = ContextFutures.wrap(CompletableFuture.completedFuture("v"));
    CompletableFuture<String> nullValue =
        ContextFutures.wrap(CompletableFuture.<String>completedFuture(null));
    CompletableFuture<String> failed =
        ContextFutures.wrap(CompletableFuture.<String>failedFuture(boom));
    CompletableFuture<String> cancelled = new CompletableFuture<>();
    cancelled.cancel(false);
    CompletableFuture<String> wrappedCancelled = ContextFutures.wrap(cancelled);

    assertThat(value.isDone()).as("complete at once").isTrue();
    assertThat(value.getNow("absent")).isEqualTo("v");
    assertThat(nullValue.getNow("absent")).isNull();
    assertThat(failed.isCompletedExceptionally()).isTrue();
    assertThat(failed.exceptionNow()).isSameAs(boom);
    assertThat(failed.handle((v, x) -> x).getNow(null)).isSameAs(boom);
    assertThat(wrappedCancelled.isCancelled())
        .as("as for the original: %s", cancelled.isCancelled())
        .isTrue();
  }

  @Test
  void wrap_dependentsOfTheWrappedFutureCarryTheContext_dependentsOfTheOriginalDoNot()
      throws Exception {
    CompletableFuture<String> original = new CompletableFuture<>();
    CompletableFuture<String> wrapped = ContextFutures.wrap(original);
    Probe ofWrapped = new Probe("of wrapped");
    Probe ofOriginal = Probe.quiet("of original"); // runs in the completer's own context
    inNewContext(
        () -> {
          VAR.set("attach");
          original.thenAccept(v -> ofOriginal.fire(v));
          wrapped.thenAccept(v -> ofWrapped.fire(v));
        });
    runOn(platformCompleter, () -> original.complete("value"));

    assertThat(ofWrapped.await().var()).isEqualTo("attach");
    assertThat(ofOriginal.await().var())
        .as("a plain future's stage runs in whatever context the completing thread is in")
        .isEqualTo(PLATFORM_COMPLETER);
  }

  @Test
  void wrap_completionStageThatIsNotACompletableFuture_followsIt() throws Exception {
    CompletableFuture<String> delegate = new CompletableFuture<>();
    CompletionStage<String> foreign = foreignStage(delegate);
    CompletableFuture<String> wrapped = ContextFutures.wrap(foreign);
    Probe probe = new Probe("of wrapped stage");
    inNewContext(
        () -> {
          VAR.set("attach");
          wrapped.thenAccept(v -> probe.fire(v));
        });
    runOn(virtualCompleter, () -> delegate.complete("value"));

    assertThat(foreign instanceof CompletableFuture).as("not a CompletableFuture").isFalse();
    assertThat(await(wrapped)).isEqualTo("value");
    assertThat(probe.await().var()).isEqualTo("attach");
    assertThat(
            ContextFutures.wrap(foreignStage(CompletableFuture.completedFuture("now")))
                .getNow(null))
        .as("an already complete stage gives a complete future at once")
        .isEqualTo("now");
  }

  @Test
  void wrap_ourFutures_returnedUnchanged() {
    CompletableFuture<String> supplied = ContextFutures.supplyAsync(() -> "v", stageExecutor);
    CompletableFuture<String> wrapped = ContextFutures.wrap(new CompletableFuture<>());
    List<CompletableFuture<?>> ours =
        List.of(
            supplied,
            wrapped,
            ContextFutures.completedFuture("v"),
            wrapped.thenApply(v -> v),
            wrapped.thenCompose(v -> CompletableFuture.completedFuture(v)),
            wrapped.copy(),
            wrapped.minimalCompletionStage().toCompletableFuture());

    for (CompletableFuture<?> future : ours) {
      assertThat(ContextFutures.wrap(future)).as("wrap(%s)", future).isSameAs(future);
      assertThat(ContextFutures.wrap((CompletionStage<?>) future)).isSameAs(future);
    }
    assertThat(ContextFutures.wrap(ContextFutures.wrap(supplied))).isSameAs(supplied);
  }

  @Test
  void wrap_ourMinimalStage_givesAFullFuture() throws Exception {
    CompletionStage<String> minimal = ContextFutures.completedFuture("v").minimalCompletionStage();

    CompletableFuture<String> full = ContextFutures.wrap(minimal);
    assertThat(full).isNotSameAs(minimal);
    assertThat(full.get(TIMEOUT_SECONDS, SECONDS)).isEqualTo("v");
    assertThat(full.complete("other")).as("already complete").isFalse();
  }

  @Test
  void wrap_cancellingTheWrappedFuture_doesNotCancelTheOriginal() throws Exception {
    CompletableFuture<String> original = new CompletableFuture<>();
    CompletableFuture<String> wrapped = ContextFutures.wrap(original);

    assertThat(wrapped.cancel(true)).isTrue();
    assertThat(original.isDone()).isFalse();
    original.complete("value");
    assertThat(wrapped.isCancelled()).isTrue();
  }

  /* ---- minimalCompletionStage ---- */

  @Test
  void minimalCompletionStage_everyMethod_throwsWhereTheJdksMinimalStageThrows() throws Exception {
    Map<String, String> jdk = new TreeMap<>();
    Map<String, String> ours = new TreeMap<>();
    for (Method method : CompletableFuture.class.getMethods()) {
      if (Modifier.isStatic(method.getModifiers()) || method.getDeclaringClass() == Object.class) {
        continue;
      }
      Object[] arguments = arguments(method);
      jdk.put(
          signature(method),
          describe(
              invoke(
                  method,
                  CompletableFuture.completedFuture("value").minimalCompletionStage(),
                  arguments)));
      ours.put(
          signature(method),
          describe(
              invoke(
                  method,
                  ContextFutures.completedFuture("value").minimalCompletionStage(),
                  arguments)));
    }

    assertThat(ours).as("what each method throws, if anything").isEqualTo(jdk);
    assertThat(jdk.values().stream().filter(UnsupportedOperationException.class.getName()::equals))
        .as("the JDK's minimal stage refuses the CompletableFuture-only methods")
        .hasSizeGreaterThanOrEqualTo(20);
  }

  @Test
  void minimalCompletionStage_dependentsCarryTheContext_andAreMinimalToo() throws Exception {
    CompletableFuture<String> source = ContextFutures.wrap(new CompletableFuture<>());
    CompletionStage<String> minimal = source.minimalCompletionStage();
    Probe probe = new Probe("of minimal");
    Probe ofFull = new Probe("of toCompletableFuture");
    List<CompletionStage<?>> derived = new ArrayList<>();
    inNewContext(
        () -> {
          VAR.set("attach");
          derived.add(minimal.thenApplyAsync(v -> probe.fire(v), stageExecutor));
          VAR.set("attach to full");
          minimal.toCompletableFuture().thenAccept(v -> ofFull.fire(v));
        });
    runOn(platformCompleter, () -> source.complete("value"));

    assertThat(probe.await().var()).isEqualTo("attach");
    assertThat(ofFull.await().var()).isEqualTo("attach to full");
    CompletableFuture<?> derivedStage = (CompletableFuture<?>) derived.get(0);
    assertThat(derivedStage.toCompletableFuture().get(TIMEOUT_SECONDS, SECONDS))
        .isEqualTo("f[value]");
    CompletionStage<String> jdkDerived =
        CompletableFuture.completedFuture("v").minimalCompletionStage().thenApply(v -> v);
    assertThatThrownBy(((CompletableFuture<?>) jdkDerived)::join)
        .as("(the JDK's derived minimal stage refuses join)")
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(derivedStage::join)
        .as("a stage derived from a minimal stage is minimal too, as the JDK's")
        .isInstanceOf(UnsupportedOperationException.class);
  }

  static Stream<Arguments> minimalFailures() {
    return Stream.of(Failure.values())
        .flatMap(f -> Stream.of(Arguments.of(f, true), Arguments.of(f, false)));
  }

  @ParameterizedTest(name = "{0}, already failed: {1}")
  @MethodSource("minimalFailures")
  void minimalCompletionStage_failedSource_failsAsTheJdksMinimalStage(
      Failure failure, boolean alreadyFailed) throws Exception {
    RuntimeException boom = new IllegalStateException("boom");
    Failing ours = failing(failure, true, boom);
    Failing plain = failing(failure, false, boom);
    if (alreadyFailed) {
      ours.fail().run();
      plain.fail().run();
      outcomeShape(ours.future(), boom); // waits until it has failed
      outcomeShape(plain.future(), boom);
    }
    CompletionStage<String> ourMinimal = ours.future().minimalCompletionStage();
    CompletionStage<String> jdkMinimal = plain.future().minimalCompletionStage();
    CompletableFuture<Throwable> ourSeen = ourMinimal.handle((v, x) -> x).toCompletableFuture();
    CompletableFuture<Throwable> jdkSeen = jdkMinimal.handle((v, x) -> x).toCompletableFuture();
    CompletableFuture<String> ourFull = ourMinimal.toCompletableFuture();
    CompletableFuture<String> jdkFull = jdkMinimal.toCompletableFuture();
    if (!alreadyFailed) {
      ours.fail().run();
      plain.fail().run();
    }

    assertThat(shape(await(ourSeen), boom))
        .as("a stage of the minimal stage is given the failure as the JDK's gives it")
        .isEqualTo(shape(await(jdkSeen), boom));
    assertThat(outcomeShape(ourFull, boom))
        .as("toCompletableFuture() fails as the JDK's")
        .isEqualTo(outcomeShape(jdkFull, boom));
  }

  /* ---- copy, completeAsync, orTimeout, completeOnTimeout ---- */

  @ParameterizedTest
  @EnumSource(Trigger.class)
  void copy_dependentsCarryTheContext_outcomeAsThePlainCopy(Trigger trigger) throws Exception {
    RuntimeException boom = new IllegalStateException("boom");
    CompletableFuture<String> original = ContextFutures.wrap(new CompletableFuture<>());
    CompletableFuture<String> copy = original.copy();
    CompletableFuture<String> plainOriginal = new CompletableFuture<>();
    CompletableFuture<String> plainCopy = plainOriginal.copy();
    Probe probe = new Probe("of copy");
    inNewContext(
        () -> {
          VAR.set("attach");
          copy.whenComplete((v, x) -> probe.fire(v, x));
        });
    runOn(platformCompleter, () -> settle(original, trigger, boom));
    settle(plainOriginal, trigger, boom);

    assertThat(copy).isNotSameAs(original).isInstanceOf(ContextFuture.class);
    assertThat(probe.await().var()).isEqualTo("attach");
    assertThat(outcomeShape(copy, boom)).isEqualTo(outcomeShape(plainCopy, boom));
  }

  @ParameterizedTest(name = "with executor: {0}")
  @EnumSource(
      value = Form.class,
      names = {"ASYNC", "ASYNC_EXECUTOR"})
  void completeAsync_supplierRunsInACopyOfTheCallersContext(Form form) throws Exception {
    CompletableFuture<String> future = ContextFutures.wrap(new CompletableFuture<>());
    CountDownLatch callerSetAgain = new CountDownLatch(1);
    Probe probe = new Probe("supplier");
    Context caller = new Context();
    caller.run(
        () -> {
          VAR.set("caller");
          Supplier<String> supplier =
              () -> {
                awaitUninterruptibly(callerSetAgain);
                return probe.fire();
              };
          CompletableFuture<String> returned =
              form == Form.ASYNC
                  ? future.completeAsync(supplier)
                  : future.completeAsync(supplier, stageExecutor);
          assertThat(returned).isSameAs(future);
          VAR.set("caller, later");
          callerSetAgain.countDown();
        });

    assertThat(await(future)).isEqualTo("f[]");
    assertThat(probe.await().var()).isEqualTo("caller");
    assertThat(caller.asMap()).isEqualTo(Map.of(VAR, "caller, later"));
    if (form == Form.ASYNC_EXECUTOR) {
      assertThat(probe.await().thread()).isSameAs(stageExecutorThread);
    }
  }

  @Test
  void orTimeout_timesOut_stageRunsInTheAttachingContextAndSeesTheTimeoutAsForAPlainFuture()
      throws Exception {
    CompletableFuture<String> future = ContextFutures.wrap(new CompletableFuture<>());
    Probe probe = new Probe("on timeout");
    inNewContext(
        () -> {
          VAR.set("attach");
          future.exceptionally(x -> probe.fire(x));
        });
    assertThat(future.orTimeout(1, MILLISECONDS)).isSameAs(future);
    CompletableFuture<String> plain = new CompletableFuture<String>().orTimeout(1, MILLISECONDS);

    Seen seen = probe.await();
    assertThat(seen.var()).isEqualTo("attach");
    assertThat(seen.inputs()).singleElement().isInstanceOf(TimeoutException.class);
    assertThat(seen.thread()).as("the JDK's timer thread").isNotSameAs(Thread.currentThread());
    assertThat(outcomeShape(future, null)).isEqualTo(outcomeShape(plain, null));
  }

  @Test
  void completeOnTimeout_timesOut_stageRunsInTheAttachingContext() throws Exception {
    CompletableFuture<String> future = ContextFutures.wrap(new CompletableFuture<>());
    Probe probe = new Probe("on timeout");
    inNewContext(
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

  /* ---- the pitfall: where a stage is attached, not where its future was created ---- */

  @Test
  void plainFuture_createdInsideCallStageAttachedOutside_runsInTheOuterContextAndLeaks()
      throws Exception {
    inNewContext(
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

          assertThat(seen)
              .as("the pitfall: the stage runs in the context of the thread that runs it")
              .isEqualTo("outer");
          assertThat(VAR.get())
              .as("and its set leaks into the attaching code")
              .isEqualTo("set by the stage");
          assertThat(ctx.get(VAR)).isEqualTo("ctx");
        });
  }

  @Test
  void contextFuture_stageAttachedInsideCall_runsInACopyOfCtxWhenCompletedLaterElsewhere()
      throws Exception {
    CompletableFuture<String> original = new CompletableFuture<>();
    Probe probe = new Probe("attached in ctx");
    Context ctx = new Context();
    ctx.run(() -> VAR.set("ctx"));
    Context outer = new Context();
    outer.call(
        () -> {
          VAR.set("outer");
          return ctx.call(() -> ContextFutures.wrap(original).thenApply(v -> probe.fire(v)));
        });
    runOn(virtualCompleter, () -> original.complete("value"));

    Seen seen = probe.await();
    assertThat(seen.var()).as("the stage runs in a copy of ctx").isEqualTo("ctx");
    assertThat(seen.thread()).as("later, elsewhere").isSameAs(virtualCompleterThread);
    assertThat(ctx.asMap()).as("its set stays in its copy").isEqualTo(Map.of(VAR, "ctx"));
    assertThat(outer.asMap()).isEqualTo(Map.of(VAR, "outer"));
  }

  @Test
  void contextFuture_createdInsideCallStageAttachedOutside_runsInACopyOfTheOuterContext()
      throws Exception {
    inNewContext(
        () -> {
          VAR.set("outer");
          Context ctx = new Context();
          ctx.run(() -> VAR.set("ctx"));
          CompletableFuture<String> created =
              ctx.call(() -> ContextFutures.completedFuture(VAR.get()));

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
          assertThat(VAR.get()).as("and its set does not leak").isEqualTo("outer");
          assertThat(ctx.get(VAR)).isEqualTo("ctx");
        });
  }

  /* ---- helpers ---- */

  /** A body that may throw, for work handed to threads and contexts. */
  @FunctionalInterface
  interface Body {
    void run() throws Exception;
  }

  /** What a stage's function saw when it ran. */
  record Seen(String var, boolean sideBound, Thread thread, List<Object> inputs) {}

  /**
   * The function of a stage: records what it saw, then (unless quiet) sets both variables in its
   * own context, where nothing else may see them. A quiet probe is for functions that run in a
   * thread's own context by design (stages of plain futures), which must not be changed.
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
   * the test's exception itself or wraps it. Two failures of the same shape are "the same
   * exception, wrapped or not the same way".
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

  private static void inNewContext(Body body) throws Exception {
    new Context()
        .call(
            () -> {
              body.run();
              return null;
            });
  }

  /** Runs {@code body} on {@code executor}'s thread and waits (bounded) until it has run. */
  private static void runOn(ExecutorService executor, Body body) throws Exception {
    await(
        executor.submit(
            () -> {
              body.run();
              return null;
            }));
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.get(TIMEOUT_SECONDS, SECONDS);
  }

  private static void awaitUninterruptibly(CountDownLatch latch) {
    try {
      if (!latch.await(TIMEOUT_SECONDS, SECONDS)) {
        throw new AssertionError("latch did not open within " + TIMEOUT_SECONDS + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /* ---- reflection ---- */

  private static boolean isFunctional(Class<?> type) {
    return type == Function.class
        || type == BiFunction.class
        || type == Consumer.class
        || type == BiConsumer.class
        || type == Runnable.class
        || type == Supplier.class;
  }

  /** Harmless arguments for {@code method}; a type without one fails, so new JDK methods show. */
  private static Object[] arguments(Method method) {
    Class<?>[] types = method.getParameterTypes();
    Object[] arguments = new Object[types.length];
    for (int i = 0; i < types.length; i++) {
      Class<?> type = types[i];
      Object argument;
      if (type == Function.class) {
        argument = Function.identity();
      } else if (type == BiFunction.class) {
        argument = (BiFunction<Object, Object, Object>) (a, b) -> a;
      } else if (type == Consumer.class) {
        argument = (Consumer<Object>) a -> {};
      } else if (type == BiConsumer.class) {
        argument = (BiConsumer<Object, Object>) (a, b) -> {};
      } else if (type == Runnable.class) {
        argument = (Runnable) () -> {};
      } else if (type == Supplier.class) {
        argument = (Supplier<Object>) () -> "supplied";
      } else if (type == Executor.class) {
        argument = (Executor) Runnable::run;
      } else if (type == CompletionStage.class) {
        argument = CompletableFuture.completedFuture("other");
      } else if (type == Object.class) {
        argument = "argument";
      } else if (type == Throwable.class) {
        argument = new IllegalStateException("argument");
      } else if (type == long.class) {
        argument = 1L;
      } else if (type == boolean.class) {
        argument = false;
      } else if (type == TimeUnit.class) {
        argument = TimeUnit.HOURS;
      } else {
        throw new AssertionError("no harmless argument of " + type + " for " + method);
      }
      arguments[i] = argument;
    }
    return arguments;
  }

  /** Invokes {@code method}; returns what it threw, or null. */
  private static Throwable invoke(Method method, Object target, Object[] arguments) {
    try {
      method.invoke(target, arguments);
      return null;
    } catch (InvocationTargetException e) {
      return e.getCause();
    } catch (IllegalAccessException e) {
      throw new AssertionError(e);
    }
  }

  private static String describe(Throwable thrown) {
    return thrown == null ? "returns" : thrown.getClass().getName();
  }

  /** A CompletionStage that is not a CompletableFuture: a proxy over {@code delegate}. */
  @SuppressWarnings("unchecked")
  private static <T> CompletionStage<T> foreignStage(CompletableFuture<T> delegate) {
    return (CompletionStage<T>)
        Proxy.newProxyInstance(
            ContextFuturesTest.class.getClassLoader(),
            new Class<?>[] {CompletionStage.class},
            (proxy, method, arguments) -> {
              if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                  case "equals" -> proxy == arguments[0];
                  case "hashCode" -> System.identityHashCode(proxy);
                  default -> "foreign stage over " + delegate;
                };
              }
              try {
                return method.invoke(delegate, arguments);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }
}
