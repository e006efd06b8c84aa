package org.contextvars4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.contextvars4j.concurrent.ContextExecutors;
import org.contextvars4j.internal.ContextAccess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Tests of {@link ContextAccess#bind}, the set without a token of the logging integrations: it
 * must behave exactly as {@link ContextVar#set} with the token dropped, in every frame, while a
 * run of binds of one variable keeps one slot.
 */
@ExtendWith(RestoresContext.class)
final class BindTest {

  private static final ContextAccess ACCESS = ContextAccess.get();
  private static final ContextVar<String> A = ContextVar.named("a");
  private static final ContextVar<String> B = ContextVar.named("b");

  /** A set whose token is dropped, one way or the other. */
  private interface Binder {
    void bind(ContextVar<String> var, String value);
  }

  private static final Binder BIND = ACCESS::bind;
  private static final Binder SET_AND_DROP = (var, value) -> var.set(value);

  /* ---- the same as a set with its token dropped ---- */

  @Test
  void randomRuns_observeTheSameAsSetsWithTheTokenDropped() {
    // Why: bind replaces the newest set's value in place where a set would push a slot. Every
    // read, copy, reset and frame exit must see no difference; the runs mix binds of the newest
    // variable and of others with kept tokens reset in any order, nested runs and folds.
    long seed = new SplittableRandom().nextLong();
    for (int run = 0; run < 300; run++) {
      long runSeed = new SplittableRandom(seed + run).nextLong();
      List<String> withBind = observe(BIND, runSeed);
      List<String> withSet = observe(SET_AND_DROP, runSeed);
      assertThat(withBind).as("seed %d, run %d", seed, run).isEqualTo(withSet);
    }
  }

  /** Runs a random program whose binds go through {@code binder}, and returns what it saw. */
  private static List<String> observe(Binder binder, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<ContextVar<String>> vars = List.of(A, B, ContextVar.named("c"), ContextVar.named("d"));
    List<String> seen = new ArrayList<>();
    new Context().run(() -> program(binder, random, vars, seen, 0));
    return seen;
  }

  private static void program(
      Binder binder,
      SplittableRandom random,
      List<ContextVar<String>> vars,
      List<String> seen,
      int depth) {
    List<Token<String>> kept = new ArrayList<>();
    for (int step = 0; step < 40; step++) {
      ContextVar<String> var = vars.get(random.nextInt(vars.size()));
      String value = "v" + step + "." + depth;
      switch (random.nextInt(8)) {
        case 0, 1, 2 -> binder.bind(var, value);
        case 3 -> kept.add(var.set(value));
        case 4 -> {
          if (!kept.isEmpty()) {
            Token<String> token = kept.remove(random.nextInt(kept.size()));
            token.var().reset(token);
          }
        }
        case 5 -> {
          if (depth < 2) {
            Context copy = Context.copyCurrent();
            copy.run(() -> program(binder, random, vars, seen, depth + 1));
            seen.add("after the run " + describe(Context.copyCurrent().asMap()));
            seen.add("the run's context " + describe(copy.asMap()));
          }
        }
        default -> seen.add(var.name() + "=" + var.getOrDefault("unbound"));
      }
      seen.add(describe(Context.copyCurrent().asMap()));
    }
  }

  private static String describe(Map<ContextVar<?>, Object> mapping) {
    StringBuilder text = new StringBuilder("{");
    mapping.entrySet().stream()
        .sorted(Map.Entry.comparingByKey((x, y) -> x.name().compareTo(y.name())))
        .forEach(e -> text.append(e.getKey().name()).append('=').append(e.getValue()).append(' '));
    return text.append('}').toString();
  }

  /* ---- the cases, one by one ---- */

  @Test
  void bind_ofTheNewestSetsVariable_replacesItsValue_andTheSetsResetStillUndoesTheSet() {
    new Context()
        .run(
            () -> {
              A.set("before");
              Token<String> token = A.set("set");
              ACCESS.bind(A, "bound");
              ACCESS.bind(A, "again");

              assertThat(A.get()).isEqualTo("again");
              A.reset(token); // Python: back to the value before the token's set
              assertThat(A.get()).isEqualTo("before");
            });
  }

  @Test
  void bind_ofAnotherVariable_keepsTheNewestSet_andATokenUnderItResetsAsPythonDoes() {
    new Context()
        .run(
            () -> {
              Token<String> a = A.set("a");
              ACCESS.bind(B, "b");
              A.reset(a); // not the newest set any more: binds A's old value, unbound

              assertThat(A.isBound()).isFalse();
              assertThat(B.get()).isEqualTo("b");
            });
  }

  @Test
  void binds_inARun_areWrittenBackToTheContext() {
    Context context = new Context();
    context.run(
        () -> {
          ACCESS.bind(A, "first");
          ACCESS.bind(A, "second");
          ACCESS.bind(B, "b");
        });

    assertThat(context.asMap()).isEqualTo(Map.of(A, "second", B, "b"));
    assertThat(A.isBound()).as("nothing leaked to the caller's context").isFalse();
  }

  @Test
  void manyBinds_ofOneVariable_foldNothing_andACopyHoldsTheLastValue() {
    // Why: a run of binds replaces the one slot; a set per change would fold every
    // MAX_OVERLAY changes. The copy is the observable result either way.
    new Context()
        .run(
            () -> {
              for (int i = 0; i < 10 * ThreadState.MAX_OVERLAY; i++) {
                ACCESS.bind(A, "v" + i);
              }
              ThreadState state = ThreadState.current();
              assertThat(state.top - state.bottom).as("slots of the frame").isEqualTo(1);
              assertThat(Context.copyCurrent().asMap())
                  .isEqualTo(Map.of(A, "v" + (10 * ThreadState.MAX_OVERLAY - 1)));
            });
  }

  @Test
  void bind_inAWrappedTask_staysInTheTask() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Token<String> a = A.set("submitter");
      CompletableFuture<String> seen = new CompletableFuture<>();
      ContextExecutors.wrap(pool)
          .execute(
              () -> {
                ACCESS.bind(A, "task");
                ACCESS.bind(A, "task again");
                seen.complete(A.get());
              });
      assertThat(seen.get(10, TimeUnit.SECONDS)).isEqualTo("task again");
      CompletableFuture<Boolean> poolThreadBound = new CompletableFuture<>();
      pool.execute(() -> poolThreadBound.complete(A.isBound()));
      assertThat(poolThreadBound.get(10, TimeUnit.SECONDS))
          .as("the pool thread's own context after the task")
          .isFalse();
      assertThat(A.get()).isEqualTo("submitter");
      A.reset(a);
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void bind_inATaskStep_isPublishedInTheTasksContext() {
    Context task = new Context();
    Object step = ACCESS.enterStep(task);
    try {
      ACCESS.bind(A, "step");
      ACCESS.bind(A, "step again");
      assertThat(A.get()).isEqualTo("step again");
      assertThat(task.asMap()).as("published at once").isEqualTo(Map.of(A, "step again"));
    } finally {
      ACCESS.leaveStep(step);
    }
    assertThat(A.isBound()).isFalse();
  }

  @Test
  void aValueReplacedInPlace_isNotKeptReachable() {
    // Why: the replaced value was in the newest set's fields; nothing else may hold it.
    Object[] replaced = {new Object()};
    WeakReference<Object> ref = new WeakReference<>(replaced[0]);
    ContextVar<Object> var = ContextVar.named("held");
    BiConsumer<ContextVar<Object>, Object> bind = ACCESS::bind;
    new Context()
        .run(
            () -> {
              bind.accept(var, replaced[0]);
              replaced[0] = null;
              bind.accept(var, "other");
              for (int i = 0; i < 50 && ref.get() != null; i++) {
                System.gc();
              }
              assertThat(ref.get()).as("the replaced value after collections").isNull();
            });
  }
}
