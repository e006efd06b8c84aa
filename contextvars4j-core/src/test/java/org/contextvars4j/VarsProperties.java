package org.contextvars4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Model-based property of {@link Vars}, the mapping behind a context: random sequences of sets
 * (stacked, then folded into the trie every few sets) and removals, against a {@link HashMap},
 * checking every version after every step, so that folding and stacking never change what a
 * mapping says. A failure prints QuickTheories' seed ({@code Seed was N}); re-run it with {@code
 * -DQT_SEED=N}.
 */
final class VarsProperties {

  private static final List<ContextVar<Object>> VARS = new ArrayList<>();

  static {
    for (int i = 0; i < 24; i++) {
      VARS.add(ContextVar.named("v" + i));
    }
  }

  /** An operation: {@code var >= 0} sets VARS[var] to value ({@code null} allowed); else removal. */
  private record Op(int var, boolean remove, Integer value) {
    @Override
    public String toString() {
      return remove ? "without(v" + var + ")" : "with(v" + var + ", " + value + ")";
    }
  }

  @Test
  void randomSetsAndRemovals_matchHashMapModelInEveryVersion() {
    qt().withExamples(500)
        .forAll(
            lists()
                .of(
                    integers()
                        .between(0, 24 * 2 * 4 - 1)
                        .map(i -> new Op(i % 24, (i / 24) % 8 == 0, i % 3 == 0 ? null : i / 48)))
                .ofSizeBetween(0, 120))
        .checkAssert(VarsProperties::check);
  }

  private static void check(List<Op> ops) {
    List<Vars> versions = new ArrayList<>();
    List<Map<ContextVar<?>, Object>> models = new ArrayList<>();
    Vars vars = Vars.EMPTY;
    Map<ContextVar<?>, Object> model = new HashMap<>();
    versions.add(vars);
    models.add(new HashMap<>(model));
    for (Op op : ops) {
      ContextVar<Object> var = VARS.get(op.var());
      if (op.remove()) {
        vars = vars.without(var);
        model.remove(var);
      } else {
        vars = vars.with(var, op.value());
        model.put(var, op.value());
      }
      versions.add(vars);
      models.add(new HashMap<>(model));
      assertMatches(vars, model, ops);
    }
    for (int i = 0; i < versions.size(); i++) {
      assertMatches(versions.get(i), models.get(i), ops);
    }
  }

  private static void assertMatches(Vars vars, Map<ContextVar<?>, Object> model, List<Op> ops) {
    for (ContextVar<Object> var : VARS) {
      Object expected = model.containsKey(var) ? model.get(var) : ContextVar.UNBOUND;
      assertThat(vars.lookup(var)).as("lookup(%s) after %s", var.name(), ops).isEqualTo(expected);
    }
    assertThat(vars.size()).as("size after %s", ops).isEqualTo(model.size());
    assertThat(vars.asMap()).as("asMap after %s", ops).isEqualTo(model);
  }
}
