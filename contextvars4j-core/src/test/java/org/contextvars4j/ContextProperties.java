package org.contextvars4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.lists;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.quicktheories.QuickTheory;
import org.quicktheories.core.Configuration;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Model-based property of {@link ContextVar}, {@link Token} and {@link Context}: random sequences
 * of sets, resets (valid and misused), copies and nested runs against a model that is a stack of
 * entered contexts, each holding a {@link HashMap} from variable to value.
 *
 * <p>Nesting comes from a flat list of operations: {@link Enter} runs the following operations in a
 * context (by {@code run}, {@code call} or {@code enter()}), up to the matching {@link Exit}. After
 * every step the values seen through {@code get}/{@code getOrDefault}/{@code isBound}, the current
 * mapping ({@code Context.copyCurrent().asMap()}), every known context's mapping and every token's
 * {@code isUsed} must match the model. Everything runs inside {@code new Context().run}, so the
 * test thread's own context is never touched; the end checks that it is as it was.
 *
 * <p>The property is a plain JUnit test that runs at least {@value #EXAMPLES} examples through
 * QuickTheories, prints nothing when they pass, and else fails with an {@link AssertionError} that
 * shows the shrunk list of operations, the assertion that broke, and a last line {@code Seed was
 * N}. To reproduce a failure, re-run the test with the seed as a system property (Surefire hands it
 * on to the test JVM); the same seed gives the same examples and the same shrinking:
 *
 * <pre>{@code
 * mvn -pl contextvars4j-core test -Dtest=ContextProperties -DQT_SEED=N
 * }</pre>
 *
 * <p>or pin it in the code while debugging: {@code theory().withFixedSeed(N)}. {@code
 * -DQT_EXAMPLES=...} sets the number of tries, {@code -DQT_SHRINKS=...} the shrink steps.
 */
final class ContextProperties {

  /** Values to set: including {@code null} and equal-but-distinct objects. */
  private static final List<@Nullable Object> VALUES =
      Arrays.asList(null, "a", new String("a"), "b", 1, 2, List.of());

  private static final Object FALLBACK =
      new Object() {
        @Override
        public String toString() {
          return "FALLBACK";
        }
      };

  /* ---- operations ---- */

  sealed interface Op permits Set, Reset, Get, CopyCurrent, CopySaved, Enter, Exit {}

  record Set(int var, int value) implements Op {}

  enum ResetMode {
    /** {@code token.var().reset(token)}. */
    OWN_VAR,
    /** {@code otherVar.reset(token)}: misuse unless otherVar happens to be the token's variable. */
    SOME_VAR,
    /** {@code token.close()}. */
    CLOSE
  }

  record Reset(int token, ResetMode mode, int var) implements Op {}

  record Get(int var) implements Op {}

  record CopyCurrent() implements Op {}

  /** {@code saved.copy()} of a known context. */
  record CopySaved(int context) implements Op {}

  enum Source {
    NEW,
    COPY_CURRENT,
    /** A known context, which may be entered already (then {@code already entered}). */
    SAVED
  }

  enum How {
    RUN,
    CALL,
    SCOPE
  }

  record Enter(Source source, int context, How how, boolean throwAtEnd) implements Op {}

  record Exit() implements Op {}

  /** Examples the property runs at least. */
  static final int EXAMPLES = 1000;

  /**
   * Shrink steps after a failure. QuickTheories' default (100 per example) is far more than a list
   * of at most 80 operations needs; this many bring a planted bug down to the few operations that
   * matter (between gets, which it cannot cut) in seconds.
   */
  private static final int SHRINK_CYCLES = 10_000;

  /**
   * {@code qt()} with {@link #EXAMPLES} and {@link #SHRINK_CYCLES}, unless {@code -DQT_EXAMPLES}
   * or {@code -DQT_SHRINKS} say otherwise. QuickTheories counts tries and skips a try whose random
   * draws repeat an earlier one, so it is asked for 2% more tries than examples.
   */
  private static QuickTheory theory() {
    return qt()
        .withExamples(Integer.getInteger(Configuration.EXAMPLES, EXAMPLES + EXAMPLES / 50))
        .withShrinkCycles(Integer.getInteger(Configuration.SHRINKS, SHRINK_CYCLES));
  }

  /**
   * Up to 80 operations, sizes uniformly spread, weighted 2 get : 8 set : 5 reset : 2 copy : 1
   * copy of a saved context : 3 enter : 3 exit. A reset resets by its own variable 5 times in 9, by
   * some variable 2 in 9, by {@code close()} 2 in 9; an enter throws at its end one time in four.
   *
   * <p>QuickTheories shrinks the sequence of random draws behind an example, so every operation
   * draws all the fields any operation has, used or not: shrinking one operation's kind then never
   * shifts the draws of the operations after it. An operation shrinks towards a get, which changes
   * nothing.
   */
  static Gen<List<Op>> ops() {
    Gen<Integer> roll = Generate.range(1, 24);
    Gen<Integer> var = Generate.range(0, 4);
    Gen<Integer> value = Generate.range(0, VALUES.size() - 1);
    Gen<Integer> index = Generate.range(0, 1000);
    Gen<Integer> modeRoll = Generate.range(1, 9);
    Gen<Source> source = Generate.enumValues(Source.class);
    Gen<How> how = Generate.enumValues(How.class);
    Gen<Boolean> throwAtEnd = Generate.pick(List.of(false, false, false, true));
    Gen<Op> op =
        in -> {
          int r = roll.generate(in);
          int v = var.generate(in);
          int val = value.generate(in);
          int i = index.generate(in);
          int m = modeRoll.generate(in);
          ResetMode mode =
              m <= 5 ? ResetMode.OWN_VAR : m <= 7 ? ResetMode.SOME_VAR : ResetMode.CLOSE;
          Source s = source.generate(in);
          How h = how.generate(in);
          boolean t = throwAtEnd.generate(in);
          if (r <= 2) {
            return new Get(v);
          } else if (r <= 10) {
            return new Set(v, val);
          } else if (r <= 15) {
            return new Reset(i, mode, v);
          } else if (r <= 17) {
            return new CopyCurrent();
          } else if (r <= 18) {
            return new CopySaved(i);
          } else if (r <= 21) {
            return new Enter(s, i, h, t);
          } else {
            return new Exit();
          }
        };
    return lists().of(op).ofSizeBetween(0, 80).describedAs(ContextProperties::describe);
  }

  /**
   * Shows a list of operations with each run of equal consecutive operations as one {@code n x
   * op}: shrunk lists keep many gets (which change nothing) wherever shrinking could not cut.
   */
  static String describe(List<Op> ops) {
    StringBuilder sb = new StringBuilder("[");
    int i = 0;
    while (i < ops.size()) {
      Op op = ops.get(i);
      int run = 1;
      while (i + run < ops.size() && ops.get(i + run).equals(op)) {
        run++;
      }
      sb.append(i == 0 ? "" : ", ").append(run == 1 ? "" : run + " x ").append(op);
      i += run;
    }
    return sb.append("] (").append(ops.size()).append(" operations)").toString();
  }

  @Test
  void randomOps_matchStackOfHashMapsModel() {
    theory().forAll(ops()).checkAssert(ContextProperties::randomOpsMatchStackOfHashMapsModel);
  }

  private static void randomOpsMatchStackOfHashMapsModel(List<Op> ops) {
    Map<ContextVar<?>, Object> baseBefore = new HashMap<>(Context.copyCurrent().asMap());
    Model model = new Model();

    model.outer.run(() -> model.execute(ops, 0, false));

    assertThat(Context.copyCurrent().asMap())
        .as("the thread's own context after the run")
        .isEqualTo(baseBefore);
    for (ContextVar<Object> var : model.vars) {
      assertThat(var.isBound()).as("%s is unbound outside", var).isFalse();
    }
    assertThat(model.outer.asMap()).isEqualTo(model.mappings.get(model.outer));
    for (Context context : model.saved) {
      assertThat(context.asMap()).isEqualTo(model.mappings.get(context));
      // No context was left entered: each can be entered again, and shows its values inside.
      context.run(() -> assertThat(Context.copyCurrent().asMap()).isEqualTo(context.asMap()));
    }
  }

  /** The system under test, driven in lockstep with the model. */
  private static final class Model {
    // v3 shares v0's bucket of a thread's slot hints, v4 shares v1's: a hint left by one variable
    // of a bucket must never answer for the other.
    final ContextVar<Object> v0 = ContextVar.named("v0");
    final ContextVar<Object> v1 = ContextVar.named("v1", "d1");
    final List<ContextVar<Object>> vars =
        List.of(
            v0,
            v1,
            ContextVar.named("v2", null),
            inBucketOf(v0, () -> ContextVar.named("v3")),
            inBucketOf(v1, () -> ContextVar.named("v4", 4)));
    final List<Boolean> hasDefault = List.of(false, true, true, false, true);
    final List<@Nullable Object> defaults = Arrays.asList(null, "d1", null, null, 4);

    final Context outer = new Context();

    /** Every context known to the test, with its mapping as the model sees it. */
    final Map<Context, Map<ContextVar<?>, @Nullable Object>> mappings = new IdentityHashMap<>();

    final List<Context> saved = new ArrayList<>();

    /** Entered contexts, innermost first; the model's "stack of HashMaps" is their mappings. */
    final Deque<Context> entered = new ArrayDeque<>();

    final List<TokenRecord> tokens = new ArrayList<>();

    /** {@code make}'s first variable whose slot-hint bucket is {@code other}'s. */
    private static ContextVar<Object> inBucketOf(
        ContextVar<Object> other, Supplier<ContextVar<Object>> make) {
      ContextVar<Object> made = make.get();
      while (made.slotHintShift != other.slotHintShift) {
        made = make.get();
      }
      return made;
    }

    Model() {
      mappings.put(outer, new HashMap<>());
      saved.add(outer);
      entered.push(outer);
    }

    Map<ContextVar<?>, @Nullable Object> current() {
      return mappings.get(entered.peek());
    }

    /**
     * Runs {@code ops} from {@code i} up to the matching {@link Exit} (when {@code nested}) or the
     * end; returns the index after the last operation run.
     */
    int execute(List<Op> ops, int i, boolean nested) {
      while (i < ops.size()) {
        Op op = ops.get(i++);
        switch (op) {
          case Exit() -> {
            if (nested) {
              return i;
            }
          }
          case Set(int v, int value) -> set(v, VALUES.get(value));
          case Reset reset -> reset(reset);
          case Get(int v) -> checkVar(v, "after " + op);
          case CopyCurrent() -> {
            Context copy = Context.copyCurrent();
            assertThat(copy.asMap()).isEqualTo(current());
            remember(copy, new HashMap<>(current()));
          }
          case CopySaved(int c) -> {
            Context original = saved.get(c % saved.size());
            Context copy = original.copy();
            assertThat(copy).isNotSameAs(original);
            remember(copy, new HashMap<>(mappings.get(original)));
          }
          case Enter enter -> i = enter(enter, ops, i);
        }
        check(op);
      }
      return i;
    }

    private void remember(Context context, Map<ContextVar<?>, @Nullable Object> mapping) {
      mappings.put(context, mapping);
      saved.add(context);
    }

    private void set(int v, @Nullable Object value) {
      ContextVar<Object> var = vars.get(v);
      Map<ContextVar<?>, @Nullable Object> map = current();
      boolean hadOld = map.containsKey(var);
      Object old = map.get(var);

      Token<Object> token = var.set(value);
      map.put(var, value);

      assertThat(token.var()).isSameAs(var);
      assertThat(token.isUsed()).isFalse();
      assertThat(token.hasOldValue()).isEqualTo(hadOld);
      if (hadOld) {
        assertThat(token.oldValue()).isSameAs(old);
      } else {
        assertThatThrownBy(token::oldValue).isInstanceOf(NoSuchElementException.class);
      }
      tokens.add(new TokenRecord(token, var, entered.peek(), hadOld, old));
    }

    private void reset(Reset op) {
      if (tokens.isEmpty()) {
        return;
      }
      // Mostly one of the last few tokens (likely usable), else any (likely misused).
      int index =
          op.token() < 600
              ? tokens.size() - 1 - op.token() % Math.min(3, tokens.size())
              : op.token() % tokens.size();
      TokenRecord rec = tokens.get(index);
      ContextVar<Object> resetter = op.mode() == ResetMode.SOME_VAR ? vars.get(op.var()) : rec.var;
      Class<? extends RuntimeException> expected;
      if (rec.used) {
        expected = IllegalStateException.class;
      } else if (resetter != rec.var) {
        expected = IllegalArgumentException.class;
      } else if (rec.context != entered.peek()) {
        expected = IllegalArgumentException.class;
      } else {
        expected = null;
      }

      Throwable thrown =
          catchThrowable(
              () -> {
                if (op.mode() == ResetMode.CLOSE) {
                  rec.token.close();
                } else {
                  resetter.reset(rec.token);
                }
              });

      if (expected == null) {
        assertThat(thrown).as("%s of %s", op, rec).isNull();
        Map<ContextVar<?>, @Nullable Object> map = current();
        if (rec.hadOld) {
          map.put(rec.var, rec.old);
        } else {
          map.remove(rec.var);
        }
        rec.used = true;
      } else {
        // Nothing changes: check() after this step compares everything with the model.
        assertThat(thrown).as("%s of %s", op, rec).isInstanceOf(expected);
      }
    }

    @SuppressWarnings("try") // the scope is entered while its try block runs
    private int enter(Enter op, List<Op> ops, int i) {
      Context context =
          switch (op.source()) {
            case NEW -> {
              Context fresh = new Context();
              remember(fresh, new HashMap<>());
              yield fresh;
            }
            case COPY_CURRENT -> {
              Context copy = Context.copyCurrent();
              remember(copy, new HashMap<>(current()));
              yield copy;
            }
            case SAVED -> saved.get(op.context() % saved.size());
          };

      if (entered.contains(context)) {
        Throwable thrown =
            catchThrowable(
                () -> {
                  switch (op.how()) {
                    case RUN ->
                        context.run(
                            () -> {
                              throw new AssertionError("ran in an entered context");
                            });
                    case CALL ->
                        context.call(
                            () -> {
                              throw new AssertionError("called in an entered context");
                            });
                    case SCOPE -> context.enter().close();
                  }
                });
        assertThat(thrown)
            .as("%s of an entered context", op)
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("already entered");
        return i; // the following operations run at the current level
      }

      RuntimeException marker = new RuntimeException("thrown at the end of " + op);
      int[] next = {i};
      Runnable body =
          () -> {
            assertThat(Context.copyCurrent().asMap()).isEqualTo(mappings.get(context));
            next[0] = execute(ops, next[0], true);
            if (op.throwAtEnd()) {
              throw marker;
            }
          };

      entered.push(context);
      Throwable thrown =
          catchThrowable(
              () -> {
                switch (op.how()) {
                  case RUN -> context.run(body);
                  case CALL ->
                      assertThat(
                              context.call(
                                  () -> {
                                    body.run();
                                    return "result";
                                  }))
                          .isEqualTo("result");
                  case SCOPE -> {
                    try (Context.Scope scope = context.enter()) {
                      body.run();
                    }
                  }
                }
              });
      entered.pop();

      if (thrown != marker) {
        // An assertion failed inside, or the action threw something unexpected: report it.
        if (thrown instanceof Error error) {
          throw error;
        }
        assertThat(thrown).as("%s completes", op).isNull();
      }
      return next[0];
    }

    /** Everything observable matches the model. */
    void check(Op after) {
      for (int v = 0; v < vars.size(); v++) {
        checkVar(v, "after " + after);
      }
      Map<ContextVar<?>, Object> currentMap = Context.copyCurrent().asMap();
      assertThat(currentMap).as("current mapping after %s", after).isEqualTo(current());
      assertThat(current()).isEqualTo(currentMap);
      for (Context context : saved) {
        assertThat(context.asMap())
            .as("mapping of a known context after %s", after)
            .isEqualTo(mappings.get(context));
        assertThat(context.size()).isEqualTo(mappings.get(context).size());
      }
      for (TokenRecord rec : tokens) {
        assertThat(rec.token.isUsed()).as("%s used", rec).isEqualTo(rec.used);
      }
    }

    private void checkVar(int v, String when) {
      ContextVar<Object> var = vars.get(v);
      Map<ContextVar<?>, @Nullable Object> map = current();
      boolean bound = map.containsKey(var);
      assertThat(var.isBound()).as("%s bound %s", var, when).isEqualTo(bound);
      assertThat(var.getOrDefault(FALLBACK))
          .as("%s.getOrDefault %s", var, when)
          .isSameAs(bound ? map.get(var) : FALLBACK);
      if (bound) {
        assertThat(var.get()).as("%s.get %s", var, when).isSameAs(map.get(var));
      } else if (hasDefault.get(v)) {
        assertThat(var.get()).as("%s.get (default) %s", var, when).isSameAs(defaults.get(v));
      } else {
        assertThatThrownBy(var::get)
            .as("%s.get (unbound, no default) %s", var, when)
            .isInstanceOf(NoSuchElementException.class)
            .hasMessageContaining(var.name());
      }
      Context current = entered.peek();
      assertThat(current.containsKey(var)).isEqualTo(bound);
      assertThat(current.getOrDefault(var, FALLBACK)).isSameAs(bound ? map.get(var) : FALLBACK);
    }
  }

  /** A token and what the model knows about it. */
  private static final class TokenRecord {
    final Token<Object> token;
    final ContextVar<Object> var;
    final Context context;
    final boolean hadOld;
    final @Nullable Object old;
    boolean used;

    TokenRecord(
        Token<Object> token,
        ContextVar<Object> var,
        Context context,
        boolean hadOld,
        @Nullable Object old) {
      this.token = token;
      this.var = var;
      this.context = context;
      this.hadOld = hadOld;
      this.old = old;
    }

    @Override
    public String toString() {
      return "Token(" + var.name() + ", old=" + (hadOld ? old : "<none>") + ")";
    }
  }
}
