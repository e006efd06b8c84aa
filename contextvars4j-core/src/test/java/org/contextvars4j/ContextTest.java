package org.contextvars4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Tests of {@link Context} and its nested {@link Context.Scope}: every row of its table in API.md,
 * the thread rules, and the null-argument contract of the whole package.
 */
// "try": a scope or token held by try-with-resources and never named in the body is the idiom.
@SuppressWarnings("try")
@ExtendWith(RestoresContext.class)
final class ContextTest {

  private static final ContextVar<String> NAME = ContextVar.named("name");
  private static final ContextVar<Integer> LEVEL = ContextVar.named("level", 3);


  /* ---- new Context() ---- */

  @Test
  void new_isEmptyAndNotEntered() {
    Context context = new Context();

    assertThat(context.size()).isZero();
    assertThat(context.iterator().hasNext()).isFalse();
    assertThat(context.asMap()).isEmpty();
    context.run(() -> assertThat(NAME.isBound()).isFalse());
  }

  @Test
  void new_insideAContextWithValues_isStillEmpty() {
    new Context()
        .run(
            () -> {
              NAME.set("outer");
              Context fresh = new Context();
              assertThat(fresh.size()).as("Context() does not copy the current context").isZero();
              fresh.run(() -> assertThat(NAME.isBound()).isFalse());
            });
  }

  /* ---- copyCurrent ---- */

  @Test
  void copyCurrent_holdsCurrentValues() {
    new Context()
        .run(
            () -> {
              NAME.set("ann");
              LEVEL.set(null);
              Context copy = Context.copyCurrent();
              assertThat(copy.asMap()).isEqualTo(mapOf(NAME, "ann", LEVEL, null));
            });
  }

  @Test
  void copyCurrent_newObjectEachCall() {
    Context first = Context.copyCurrent();
    Context second = Context.copyCurrent();

    assertThat(first).isNotSameAs(second).isNotEqualTo(second);
    assertThat(first.asMap()).isEqualTo(second.asMap());
  }

  @Test
  void copyCurrent_laterSetsInEitherContext_areIndependent() {
    new Context()
        .run(
            () -> {
              NAME.set("before");
              Context copy = Context.copyCurrent();

              NAME.set("after");
              assertThat(copy.get(NAME))
                  .as("a set after the copy does not reach it")
                  .isEqualTo("before");

              copy.run(() -> NAME.set("in copy"));
              assertThat(NAME.get()).as("a set in the copy does not come back").isEqualTo("after");
              assertThat(copy.get(NAME)).isEqualTo("in copy");
            });
  }

  /* ---- copy ---- */

  @Test
  void copy_holdsSameMappingAndIsIndependent() {
    Context original = new Context();
    original.run(() -> NAME.set("ann"));

    Context copy = original.copy();
    copy.run(() -> NAME.set("bob"));
    original.run(() -> LEVEL.set(7));

    assertThat(copy).isNotSameAs(original);
    assertThat(original.asMap()).isEqualTo(mapOf(NAME, "ann", LEVEL, 7));
    assertThat(copy.asMap()).isEqualTo(mapOf(NAME, "bob"));
  }

  @Test
  void copy_ofEnteredContext_seesItsLatestSets() {
    Context context = new Context();

    context.run(
        () -> {
          NAME.set("latest");
          Context copy = context.copy();
          assertThat(copy.get(NAME)).isEqualTo("latest");
          copy.run(() -> assertThat(NAME.get()).isEqualTo("latest"));
        });
  }

  /* ---- run ---- */

  @Test
  void run_entersContextAndRestoresPrevious() {
    Context outer = new Context();
    Context inner = new Context();
    outer.run(() -> NAME.set("outer"));
    inner.run(() -> NAME.set("inner"));

    outer.run(
        () -> {
          assertThat(NAME.get()).isEqualTo("outer");
          inner.run(() -> assertThat(NAME.get()).isEqualTo("inner"));
          assertThat(NAME.get()).as("the outer context is current again").isEqualTo("outer");
        });
  }

  @Test
  void run_setsAreRecordedInContextAndSeenByNextRun() {
    Context context = new Context();

    context.run(() -> NAME.set("first run"));
    context.run(
        () -> {
          assertThat(NAME.get()).isEqualTo("first run");
          LEVEL.set(9);
        });

    assertThat(context.asMap()).isEqualTo(mapOf(NAME, "first run", LEVEL, 9));
    assertThat(NAME.isBound()).isFalse();
  }

  @Test
  void run_actionThrows_restoresPreviousAndPropagatesSameException() {
    Context context = new Context();
    IllegalArgumentException failure = new IllegalArgumentException("from the action");

    assertThatThrownBy(
            () ->
                context.run(
                    () -> {
                      NAME.set("set before failing");
                      throw failure;
                    }))
        .isSameAs(failure)
        .satisfies(e -> assertThat(e.getSuppressed()).as("nothing added").isEmpty());

    assertThat(NAME.isBound()).isFalse();
    assertThat(context.get(NAME))
        .as("sets made before the failure stay recorded")
        .isEqualTo("set before failing");
    context.run(() -> {}); // and the context is no longer entered
  }

  @Test
  void run_innerActionThrows_restoresOuterContext() {
    Context outer = new Context();
    Context inner = new Context();
    RuntimeException failure = new RuntimeException("inner");

    outer.run(
        () -> {
          NAME.set("outer");
          assertThatThrownBy(
                  () ->
                      inner.run(
                          () -> {
                            NAME.set("inner");
                            throw failure;
                          }))
              .isSameAs(failure);
          assertThat(ThreadState.current().context).isSameAs(outer);
          assertThat(NAME.get()).isEqualTo("outer");
        });
    assertThat(inner.get(NAME)).isEqualTo("inner");
  }

  @Test
  void run_actionThrowsError_restoresPreviousAndPropagates() {
    Context context = new Context();
    AssertionError failure = new AssertionError("an error, not an exception");

    assertThatThrownBy(
            () ->
                context.run(
                    () -> {
                      throw failure;
                    }))
        .isSameAs(failure);
    context.run(() -> {});
  }

  @Test
  void run_sameContextNested_throwsAlreadyEnteredAndChangesNothing() {
    Context context = new Context();

    context.run(
        () -> {
          NAME.set("outer");
          AtomicReference<Boolean> ran = new AtomicReference<>(false);

          assertThatIllegalStateException()
              .isThrownBy(() -> context.run(() -> ran.set(true)))
              .withMessageContaining("already entered");

          assertThat(ran.get()).as("the action is not run").isFalse();
          assertThat(NAME.get()).isEqualTo("outer");
          assertThat(ThreadState.current().context).isSameAs(context);
        });
  }

  @Test
  void run_contextEnteredByScope_throwsAlreadyEntered() {
    Context context = new Context();

    try (Context.Scope ignored = context.enter()) {
      assertThatIllegalStateException()
          .isThrownBy(() -> context.run(() -> {}))
          .withMessageContaining("already entered");
    }
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void run_contextEnteredOnAnotherThread_throwsAlreadyEntered(ThreadFactory factory)
      throws Exception {
    Context context = new Context();

    whileHeldOn(
        context,
        factory,
        () -> {
          assertThatIllegalStateException()
              .isThrownBy(() -> context.run(() -> {}))
              .withMessageContaining("already entered");
          assertThatIllegalStateException()
              .isThrownBy(context::enter)
              .withMessageContaining("already entered");
        });

    context.run(
        () -> assertThat(NAME.get()).as("free again once the holder left").isEqualTo("holder"));
  }

  @Test
  void alreadyEntered_namesTheHoldingThread_platformByName_virtualById() throws Exception {
    Context context = new Context();
    ThreadFactory platform = Thread.ofPlatform().name("the-holder").factory();
    ThreadFactory virtual = Thread.ofVirtual().name("a-virtual-holder").factory();

    assertThat(failureWhileHeldOn(context, platform))
        .contains("already entered on thread \"the-holder\"");
    assertThat(failureWhileHeldOn(context, virtual))
        .containsPattern(
            "already entered on thread #[1-9][0-9]* \\(a virtual thread, or one that ended\\)");
    context.run(
        () ->
            assertThatIllegalStateException()
                .isThrownBy(context::enter)
                .withMessageContaining(
                    "already entered on this thread (\"%s\")", Thread.currentThread().getName()));
  }

  /** The message of a run of {@code context} while a thread of {@code factory} is in it. */
  private static String failureWhileHeldOn(Context context, ThreadFactory factory)
      throws Exception {
    AtomicReference<String> message = new AtomicReference<>();
    whileHeldOn(
        context,
        factory,
        () ->
            message.set(
                catchThrowableOfType(IllegalStateException.class, () -> context.run(() -> {}))
                    .getMessage()));
    return message.get();
  }

  /**
   * Runs {@code check} while a thread of {@code factory} is in {@code context}, having set {@code
   * NAME} to {@code "holder"} there; returns once that thread left it.
   */
  private static void whileHeldOn(Context context, ThreadFactory factory, Runnable check)
      throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Future<Void> holder =
        ThreadKinds.start(
            factory,
            () ->
                context.call(
                    () -> {
                      NAME.set("holder");
                      entered.countDown();
                      ThreadKinds.await(release);
                      return null;
                    }));
    ThreadKinds.await(entered);
    try {
      check.run();
    } finally {
      release.countDown();
    }
    ThreadKinds.await(holder);
  }

  /* ---- call ---- */

  @Test
  void call_returnsResultOfOp() {
    Context context = new Context();
    context.run(() -> NAME.set("ann"));

    assertThat(context.call(NAME::get)).isEqualTo("ann");
    assertThat(context.<String, RuntimeException>call(() -> null)).isNull();
  }

  @Test
  void call_checkedException_propagatesUnchanged() {
    Context context = new Context();
    IOException failure = new IOException("checked");

    assertThatThrownBy(
            () ->
                context.call(
                    () -> {
                      NAME.set("set before failing");
                      throw failure;
                    }))
        .isSameAs(failure);

    assertThat(NAME.isBound()).isFalse();
    assertThat(context.get(NAME)).isEqualTo("set before failing");
  }

  @Test
  void call_checkedExceptionType_isDeclaredByCall() throws IOException {
    // Compiles only because call(op) throws exactly what op declares.
    String result = new Context().call(() -> readNothing());

    assertThat(result).isEqualTo("nothing");
  }

  @Test
  void call_sameContextNested_throwsAlreadyEntered() {
    Context context = new Context();

    context.run(
        () ->
            assertThatIllegalStateException()
                .isThrownBy(() -> context.call(() -> "never"))
                .withMessageContaining("already entered"));
  }

  /* ---- enter / Scope ---- */

  @Test
  void enter_thenClose_entersAndRestoresPrevious() {
    Context context = new Context();
    context.run(() -> NAME.set("in context"));

    Context.Scope scope = context.enter();
    try {
      assertThat(ThreadState.current().context).isSameAs(context);
      assertThat(NAME.get()).isEqualTo("in context");
      LEVEL.set(8);
    } finally {
      scope.close();
    }

    assertThat(NAME.isBound()).isFalse();
    assertThat(context.get(LEVEL)).as("sets inside the scope are recorded").isEqualTo(8);
  }

  @Test
  void enter_nestedScopes_closeInReverseOrder() {
    Context outer = new Context();
    Context inner = new Context();

    try (Context.Scope outerScope = outer.enter()) {
      NAME.set("outer");
      try (Context.Scope innerScope = inner.enter()) {
        assertThat(NAME.isBound()).isFalse();
        NAME.set("inner");
      }
      assertThat(NAME.get()).isEqualTo("outer");
    }

    assertThat(outer.get(NAME)).isEqualTo("outer");
    assertThat(inner.get(NAME)).isEqualTo("inner");
  }

  @Test
  void enter_alreadyEnteredOnThisThread_throwsAlreadyEntered() {
    Context context = new Context();

    try (Context.Scope ignored = context.enter()) {
      assertThatIllegalStateException()
          .isThrownBy(context::enter)
          .withMessageContaining("already entered")
          .withMessageContaining("this thread");
      assertThat(ThreadState.current().context).isSameAs(context);
    }
    context.run(() -> {});
  }

  @Test
  void enter_insideRunOfSameContext_throwsAlreadyEntered() {
    Context context = new Context();

    context.run(
        () ->
            assertThatIllegalStateException()
                .isThrownBy(context::enter)
                .withMessageContaining("already entered"));
  }

  @Test
  void enter_afterClose_canEnterAgain() {
    Context context = new Context();

    try (Context.Scope ignored = context.enter()) {
      NAME.set("first");
    }
    try (Context.Scope ignored = context.enter()) {
      assertThat(NAME.get()).isEqualTo("first");
    }
  }

  @Test
  void close_outOfOrder_throwsIllegalStateAndChangesNothing() {
    Context outer = new Context();
    Context inner = new Context();
    Context.Scope outerScope = outer.enter();
    Context.Scope innerScope = inner.enter();
    try {
      NAME.set("inner");

      assertThatIllegalStateException()
          .isThrownBy(outerScope::close)
          .withMessageContaining("out of order");

      assertThat(ThreadState.current().context).as("still in the inner context").isSameAs(inner);
      assertThat(NAME.get()).isEqualTo("inner");
    } finally {
      innerScope.close();
      assertThat(ThreadState.current().context).isSameAs(outer);
      outerScope.close(); // the failed close left the outer scope open: this close works
    }
  }

  @Test
  void close_scopeOpenedOutsideRun_insideRun_throwsIllegalState() {
    Context outside = new Context();
    Context running = new Context();

    try (Context.Scope scope = outside.enter()) {
      running.run(
          () -> {
            assertThatIllegalStateException().isThrownBy(scope::close);
            assertThat(ThreadState.current().context).isSameAs(running);
          });
      assertThat(ThreadState.current().context).isSameAs(outside);
    }
  }

  @Test
  void close_twice_throwsIllegalState() {
    Context context = new Context();
    Context.Scope scope = context.enter();
    scope.close();

    assertThatIllegalStateException()
        .as("a double close is a bug to report, not to hide")
        .isThrownBy(scope::close)
        .withMessageContaining("already closed");
  }

  @Test
  void close_oldScopeAfterContextEnteredAgain_throwsIllegalStateAndKeepsNewScope() {
    Context context = new Context();
    Context.Scope first = context.enter();
    first.close();
    Context.Scope second = context.enter();
    try {
      assertThatIllegalStateException().isThrownBy(first::close);
      assertThat(ThreadState.current().context)
          .as("closing the stale scope did not exit the context entered again")
          .isSameAs(context);
    } finally {
      second.close();
    }
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void close_onAnotherThread_throwsIllegalStateAndScopeStaysOpen(ThreadFactory factory)
      throws Exception {
    Context context = new Context();
    Context.Scope scope = context.enter();
    try {
      Throwable thrown = ThreadKinds.call(factory, () -> catchThrowable(scope::close));

      assertThat(thrown)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("cannot be closed on thread");
      assertThat(ThreadState.current().context).isSameAs(context);
    } finally {
      scope.close();
    }
  }

  /* ---- a Scope left open inside run/call ---- */

  @Test
  void run_scopeLeftOpen_closesItAndThrowsIllegalState() {
    Context running = new Context();
    Context forgotten = new Context();
    AtomicReference<Context.Scope> scope = new AtomicReference<>();

    assertThatIllegalStateException()
        .isThrownBy(
            () ->
                running.run(
                    () -> {
                      scope.set(forgotten.enter());
                      NAME.set("in forgotten");
                    }))
        .withMessageContaining("not closed");

    assertThat(forgotten.get(NAME)).isEqualTo("in forgotten");
    assertThatIllegalStateException()
        .as("the run closed the forgotten scope")
        .isThrownBy(() -> scope.get().close())
        .withMessageContaining("already closed");
    forgotten.run(() -> {}); // no longer entered
    running.run(() -> {});
  }

  @Test
  void run_scopeLeftOpenAndActionThrows_propagatesActionExceptionWithReportSuppressed() {
    Context running = new Context();
    Context forgotten = new Context();
    IllegalArgumentException failure = new IllegalArgumentException("action failed");

    assertThatThrownBy(
            () ->
                running.run(
                    () -> {
                      Context.Scope unused = forgotten.enter();
                      throw failure;
                    }))
        .isSameAs(failure)
        .satisfies(
            e ->
                assertThat(e.getSuppressed())
                    .singleElement()
                    .isInstanceOf(IllegalStateException.class)
                    .extracting(Throwable::getMessage)
                    .asString()
                    .contains("not closed"));

    forgotten.run(() -> {});
    running.run(() -> {});
  }

  @Test
  void run_twoScopesLeftOpen_closesBoth() {
    Context running = new Context();
    Context first = new Context();
    Context second = new Context();

    assertThatIllegalStateException()
        .isThrownBy(
            () ->
                running.run(
                    () -> {
                      Context.Scope unused1 = first.enter();
                      Context.Scope unused2 = second.enter();
                    }))
        .withMessageContaining("not closed");

    first.run(() -> {});
    second.run(() -> {});
    running.run(() -> {});
  }

  @Test
  void call_scopeLeftOpen_closesItAndThrowsIllegalState() {
    Context running = new Context();
    Context forgotten = new Context();

    assertThatIllegalStateException()
        .isThrownBy(
            () ->
                running.call(
                    () -> {
                      Context.Scope unused = forgotten.enter();
                      return "lost";
                    }))
        .withMessageContaining("not closed");

    forgotten.run(() -> {});
  }

  @Test
  void run_scopeOpenedAndClosedInside_isFine() {
    Context running = new Context();
    Context inner = new Context();

    running.run(
        () -> {
          try (Context.Scope ignored = inner.enter()) {
            NAME.set("inner");
          }
        });

    assertThat(inner.get(NAME)).isEqualTo("inner");
    assertThat(running.containsKey(NAME)).isFalse();
  }

  /* ---- wrap ---- */

  @Test
  void wrapRunnable_runsInThisContextObject() {
    Context context = new Context();
    // The cast picks wrap(Runnable): the expression lambda alone would select wrap(Callable).
    Runnable wrapped = context.wrap((Runnable) () -> NAME.set("from wrapped"));

    wrapped.run();

    assertThat(context.get(NAME))
        .as("sets are recorded in that very context")
        .isEqualTo("from wrapped");
    assertThat(NAME.isBound()).isFalse();
  }

  @Test
  void wrapRunnable_eachRunSeesEarlierRunsSets() {
    Context context = new Context();
    Runnable increment =
        context.wrap(
            () -> {
              LEVEL.set(LEVEL.get() + 1);
            });

    increment.run();
    increment.run();

    assertThat(context.get(LEVEL)).isEqualTo(5);
  }

  @Test
  void wrap_doesNotEnterUntilRun() {
    Context context = new Context();
    Runnable wrapped = context.wrap(() -> {});

    context.run(() -> {});
    assertThatIllegalStateException()
        .as("running the wrapped action while its context is entered")
        .isThrownBy(() -> context.run(wrapped))
        .withMessageContaining("already entered");
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void wrapRunnable_onAnotherThread_setsSeenInContextAfterwards(ThreadFactory factory)
      throws Exception {
    Context context = new Context();
    context.run(() -> NAME.set("submitter"));
    AtomicReference<String> seen = new AtomicReference<>();
    Runnable wrapped =
        context.wrap(
            () -> {
              seen.set(NAME.get());
              NAME.set("worker");
            });

    ThreadKinds.run(factory, wrapped::run);

    assertThat(seen.get()).isEqualTo("submitter");
    assertThat(context.get(NAME)).isEqualTo("worker");
  }

  @Test
  void wrapCallable_returnsResultAndRecordsSets() throws Exception {
    Context context = new Context();
    Callable<String> wrapped =
        context.wrap(
            () -> {
              NAME.set("called");
              return NAME.get() + "!";
            });

    assertThat(wrapped.call()).isEqualTo("called!");
    assertThat(context.get(NAME)).isEqualTo("called");
  }

  @Test
  void wrapCallable_checkedException_propagatesUnchangedAndRestores() {
    Context context = new Context();
    Exception failure = new Exception("checked");
    Callable<String> wrapped =
        context.wrap(
            () -> {
              throw failure;
            });

    assertThatThrownBy(wrapped::call).isSameAs(failure);
    context.run(() -> {});
  }

  /* ---- get / getOrDefault / containsKey / size ---- */

  @Test
  void get_bound_returnsValue() {
    Context context = new Context();
    context.run(() -> LEVEL.set(7));

    assertThat(context.get(LEVEL)).isEqualTo(7);
  }

  @Test
  void get_unbound_throwsNoSuchElementDespiteVarDefault() {
    Context context = new Context();

    assertThatThrownBy(() -> context.get(LEVEL))
        .as("ctx[var] ignores the variable's default")
        .isInstanceOf(NoSuchElementException.class)
        .hasMessageContaining("level");
  }

  @Test
  void get_unboundWhileAnotherValueCannotBeFormatted_throwsNoSuchElement() {
    Context context = new Context();
    ContextVar<Object> other = ContextVar.named("other");
    context.run(() -> other.set(new UnprintableValue()));

    assertThatThrownBy(() -> context.get(NAME))
        .as("building the message must not format the context's other values")
        .isInstanceOf(NoSuchElementException.class)
        .hasMessageContaining("name");
  }

  @Test
  void get_boundToNull_returnsNull() {
    Context context = new Context();
    context.run(() -> LEVEL.set(null));

    assertThat(context.get(LEVEL)).isNull();
  }

  @Test
  void getOrDefault_unbound_returnsFallbackNotVarDefault() {
    Context context = new Context();

    assertThat(context.getOrDefault(LEVEL, 9)).isEqualTo(9);
    assertThat(context.getOrDefault(LEVEL, null)).isNull();
  }

  @Test
  void getOrDefault_bound_returnsValue() {
    Context context = new Context();
    context.run(() -> LEVEL.set(null));

    assertThat(context.getOrDefault(LEVEL, 9)).as("a bound null is a value").isNull();
  }

  @Test
  void containsKey_onlyBoundVariables() {
    Context context = new Context();
    context.run(() -> NAME.set(null));

    assertThat(context.containsKey(NAME)).isTrue();
    assertThat(context.containsKey(LEVEL)).as("a default does not count").isFalse();
  }

  @Test
  void size_countsBoundVariables() {
    Context context = new Context();
    context.run(
        () -> {
          NAME.set("a");
          NAME.set("b");
          LEVEL.set(null);
        });

    assertThat(context.size()).isEqualTo(2);
  }

  @Test
  void size_manyVariables_countsAll() {
    Context context = new Context();
    List<ContextVar<Integer>> vars = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      vars.add(ContextVar.named("v" + i));
    }

    context.run(
        () -> {
          for (int i = 0; i < vars.size(); i++) {
            vars.get(i).set(i);
          }
        });

    assertThat(context.size()).isEqualTo(1000);
    for (int i = 0; i < vars.size(); i++) {
      assertThat(context.get(vars.get(i))).isEqualTo(i);
    }
    assertThat(context).containsExactlyInAnyOrderElementsOf(vars);
  }

  /* ---- iterator ---- */

  @Test
  void iterator_yieldsEachBoundVariableOnce() {
    Context context = new Context();
    context.run(
        () -> {
          NAME.set("a");
          LEVEL.set(1);
        });

    assertThat(context).containsExactlyInAnyOrder(NAME, LEVEL);
  }

  @Test
  void iterator_laterSets_notSeen() {
    Context context = new Context();
    context.run(() -> NAME.set("a"));
    Iterator<ContextVar<?>> iterator = context.iterator();

    context.run(() -> LEVEL.set(1));

    List<ContextVar<?>> seen = new ArrayList<>();
    iterator.forEachRemaining(seen::add);
    assertThat(seen).containsExactly(NAME);
  }

  @Test
  void iterator_exhausted_throwsNoSuchElement() {
    Iterator<ContextVar<?>> iterator = new Context().iterator();

    assertThat(iterator.hasNext()).isFalse();
    assertThatThrownBy(iterator::next).isInstanceOf(NoSuchElementException.class);
  }

  @Test
  void iterator_remove_unsupported() {
    Context context = new Context();
    context.run(() -> NAME.set("a"));
    Iterator<ContextVar<?>> iterator = context.iterator();
    iterator.next();

    assertThatThrownBy(iterator::remove).isInstanceOf(UnsupportedOperationException.class);
    assertThat(context.containsKey(NAME)).isTrue();
  }

  /* ---- asMap ---- */

  @Test
  void asMap_isSnapshot_laterSetsNotShown() {
    Context context = new Context();
    context.run(() -> NAME.set("a"));
    Map<ContextVar<?>, Object> snapshot = context.asMap();

    context.run(
        () -> {
          NAME.set("b");
          LEVEL.set(1);
        });

    assertThat(snapshot).isEqualTo(mapOf(NAME, "a"));
    assertThat(context.asMap()).isEqualTo(mapOf(NAME, "b", LEVEL, 1));
  }

  @Test
  void asMap_isUnmodifiable() {
    Context context = new Context();
    context.run(() -> NAME.set("a"));
    Map<ContextVar<?>, Object> map = context.asMap();

    assertThatThrownBy(() -> map.put(LEVEL, 1)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> map.remove(NAME)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(map::clear).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> map.entrySet().iterator().next().setValue("b"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(context.get(NAME)).isEqualTo("a");
  }

  @Test
  void asMap_nullValue_isPresent() {
    Context context = new Context();
    context.run(() -> NAME.set(null));
    Map<ContextVar<?>, Object> map = context.asMap();

    assertThat(map).containsEntry(NAME, null).hasSize(1);
    assertThat(map.containsKey(NAME)).isTrue();
    assertThat(map.containsKey(LEVEL)).isFalse();
    assertThat(map.getOrDefault(NAME, "fallback")).isNull();
  }

  @Test
  void asMap_sameMappingBuiltDifferently_equalAcrossContexts() {
    Context first = new Context();
    Context second = new Context();
    first.run(
        () -> {
          NAME.set("a");
          LEVEL.set(1);
        });
    second.run(
        () -> {
          LEVEL.set(0);
          NAME.set("a");
          LEVEL.set(1);
        });

    assertThat(first.asMap()).as("Python's == on contexts").isEqualTo(second.asMap());
    assertThat(first.asMap().hashCode()).isEqualTo(second.asMap().hashCode());
    assertThat(first).as("a Context itself compares by identity").isNotEqualTo(second);
  }

  @Test
  void asMap_equalsAnyMapWithSameEntries() {
    Context context = new Context();
    context.run(
        () -> {
          NAME.set("a");
          LEVEL.set(null);
        });
    Map<ContextVar<?>, Object> expected = new HashMap<>();
    expected.put(NAME, "a");
    expected.put(LEVEL, null);

    assertThat(context.asMap()).isEqualTo(expected);
    assertThat(expected).isEqualTo(context.asMap());
    assertThat(context.asMap().hashCode()).isEqualTo(expected.hashCode());
  }

  /* ---- equals / hashCode ---- */

  @Test
  void equals_isIdentityBased() {
    Context context = new Context();
    Context copy = context.copy();

    assertThat(context).isEqualTo(context).isNotEqualTo(copy);
    assertThat(context.hashCode()).isEqualTo(System.identityHashCode(context));
  }

  /* ---- threads ---- */

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void newThread_startsWithEmptyContext(ThreadFactory factory) throws Exception {
    Context here = new Context();

    here.run(
        () -> {
          NAME.set("here");
          try {
            int size = ThreadKinds.call(factory, () -> Context.copyCurrent().size());
            assertThat(size).as("values do not follow to a new thread by themselves").isZero();
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void set_onAnotherThread_notSeenHere(ThreadFactory factory) throws Exception {
    ThreadKinds.run(
        factory,
        () -> {
          NAME.set("there"); // in that thread's own base context, which dies with it
          assertThat(NAME.get()).isEqualTo("there");
        });

    assertThat(NAME.isBound()).isFalse();
  }

  @ParameterizedTest
  @MethodSource("org.contextvars4j.ThreadKinds#factories")
  void run_contextHandedToAnotherThread_carriesValuesBothWays(ThreadFactory factory)
      throws Exception {
    Context context = new Context();
    context.run(() -> NAME.set("here"));

    String seen =
        ThreadKinds.call(
            factory,
            () ->
                context.call(
                    () -> {
                      LEVEL.set(42);
                      return NAME.get();
                    }));

    assertThat(seen).isEqualTo("here");
    assertThat(context.get(LEVEL))
        .as("the worker's set is visible after it finished")
        .isEqualTo(42);
  }

  /* ---- null arguments ---- */

  @Test
  void nullArguments_throwNpe() {
    Context context = new Context();
    ContextVar<String> var = ContextVar.named("x");

    assertThatNullPointerException()
        .isThrownBy(() -> ContextVar.named(null))
        .withMessageContaining("name");
    assertThatNullPointerException()
        .isThrownBy(() -> ContextVar.named(null, "default"))
        .withMessageContaining("name");
    assertThatNullPointerException()
        .isThrownBy(() -> var.reset(null))
        .withMessageContaining("token");
    assertThatNullPointerException()
        .isThrownBy(() -> context.run(null))
        .withMessageContaining("action");
    assertThatNullPointerException()
        .isThrownBy(() -> context.call((Context.CallableOp<String, RuntimeException>) null))
        .withMessageContaining("op");
    assertThatNullPointerException()
        .isThrownBy(() -> context.wrap((Runnable) null))
        .withMessageContaining("action");
    assertThatNullPointerException()
        .isThrownBy(() -> context.wrap((Callable<String>) null))
        .withMessageContaining("action");
    assertThatNullPointerException()
        .isThrownBy(() -> context.get(null))
        .withMessageContaining("var");
    assertThatNullPointerException()
        .isThrownBy(() -> context.getOrDefault(null, "fallback"))
        .withMessageContaining("var");
    assertThatNullPointerException()
        .isThrownBy(() -> context.containsKey(null))
        .withMessageContaining("var");
    // Inherited from Iterable: the JDK's check, which has no message.
    assertThatNullPointerException().isThrownBy(() -> context.forEach(null));

    // Nothing was entered by the failed calls.
    context.run(() -> {});
  }

  @Test
  void nullValues_areAccepted() {
    ContextVar<String> var = ContextVar.named("x", null);
    Context context = new Context();

    context.run(
        () -> {
          Token<String> token = var.set(null);
          assertThat(var.getOrDefault(null)).isNull();
          var.reset(token);
        });
    assertThat(context.getOrDefault(var, null)).isNull();
  }

  /* ---- toString ---- */

  @Test
  void toString_showsIdentityNamesAndValues() {
    Context context = new Context();
    context.run(() -> NAME.set("r-42"));

    assertThat(context.toString()).matches("Context@[0-9a-f]+\\{name=\"r-42\"\\}");
  }

  @Test
  void toString_valueCannotBeFormatted_doesNotThrow() {
    Context context = new Context();
    ContextVar<Object> broken = ContextVar.named("broken");
    context.run(() -> broken.set(new UnprintableValue()));

    assertThat(context.toString())
        .as("a value's failing toString is reported, not thrown")
        .contains("broken=<")
        .contains("cannot format this value");
  }

  @Test
  void toString_valueRefersBackToContext_doesNotRecurseForever() {
    Context context = new Context();
    ContextVar<Object> self = ContextVar.named("self");
    context.run(() -> self.set(List.of(context)));

    assertThat(context.toString()).matches("Context@[0-9a-f]+\\{self=\\[Context@[0-9a-f]+\\{self=\\.\\.\\.\\}\\]\\}");
  }

  /* ---- helpers ---- */

  private static String readNothing() throws IOException {
    return "nothing";
  }

  /** A value whose {@code toString} fails, as a lazy proxy or a closed resource's may. */
  private static final class UnprintableValue {
    @Override
    public String toString() {
      throw new IllegalStateException("cannot format this value");
    }
  }

  /** {@code Map.of} does not take null values; contexts do. */
  private static Map<ContextVar<?>, Object> mapOf(Object... keysAndValues) {
    Map<ContextVar<?>, Object> map = new HashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((ContextVar<?>) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }
}
