package org.contextvars4j.slf4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link MdcMap} against a {@link HashMap} model: random puts and removals over 40 keys, so that
 * maps grow past the flat limit into a trie and shrink back, checking every version after every
 * step (an older version never changes) and every lookup with an equal but not identical key.
 */
final class MdcMapProperties {
  private static final int KEYS = 40;

  /** A put of key {@code key} (value {@code null} allowed), or its removal. */
  private record Op(int key, boolean remove, String value) {
    @Override
    public String toString() {
      return remove ? "without(k" + key + ")" : "with(k" + key + ", " + value + ")";
    }
  }

  @Test
  void randomPutsAndRemovals_matchHashMapModelInEveryVersion() {
    qt().withExamples(400)
        .forAll(
            lists()
                .of(
                    integers()
                        .between(0, KEYS * 8 - 1)
                        .map(i -> new Op(i % KEYS, (i / KEYS) % 4 == 0, i % 5 == 0 ? null : "v" + i)))
                .ofSizeBetween(0, 160))
        .checkAssert(MdcMapProperties::check);
  }

  private static void check(List<Op> ops) {
    List<MdcMap> versions = new ArrayList<>();
    List<Map<String, String>> models = new ArrayList<>();
    MdcMap map = MdcMap.EMPTY;
    Map<String, String> model = new HashMap<>();
    for (Op op : ops) {
      String key = "k" + op.key();
      map = op.remove() ? map.without(key) : map.with(key, op.value());
      if (op.remove()) {
        model.remove(key);
      } else {
        model.put(key, op.value());
      }
      versions.add(map);
      models.add(new HashMap<>(model));
    }
    for (int v = 0; v < versions.size(); v++) {
      MdcMap version = versions.get(v);
      Map<String, String> expected = models.get(v);
      assertThat(version).as("version %d of %s", v, ops).isEqualTo(expected);
      assertThat(version.hashCode()).isEqualTo(expected.hashCode());
      assertThat(version).hasSize(expected.size());
      for (int k = 0; k < KEYS; k++) {
        String equalKey = new String("k" + k);
        assertThat(version.containsKey(equalKey)).isEqualTo(expected.containsKey(equalKey));
        assertThat(version.get(equalKey)).isEqualTo(expected.get(equalKey));
        assertThat(version.getOrDefault(equalKey, "absent"))
            .isEqualTo(expected.getOrDefault(equalKey, "absent"));
      }
    }
  }

  @Test
  void crossingTheFlatLimitBothWays_keepsEveryEntry() {
    MdcMap map = MdcMap.EMPTY;
    Map<String, String> model = new HashMap<>();
    for (int i = 0; i < 3 * MdcMap.FLAT_LIMIT; i++) {
      map = map.with("key" + i, "value" + i);
      model.put("key" + i, "value" + i);
      assertThat(map).isEqualTo(model);
    }
    for (int i = 0; i < 3 * MdcMap.FLAT_LIMIT; i++) {
      map = map.without("key" + i);
      model.remove("key" + i);
      assertThat(map).isEqualTo(model);
    }
    assertThat(map).isSameAs(MdcMap.EMPTY);
  }

  @Test
  void unchangedResults_areTheSameMap() {
    MdcMap one = MdcMap.EMPTY.with("a", "1");
    assertThat(one.with("a", "1")).isSameAs(one);
    assertThat(one.without("absent")).isSameAs(one);
  }

  @Test
  void theMapRefusesEveryChange() {
    MdcMap one = MdcMap.EMPTY.with("a", "1");
    assertThatThrownBy(() -> one.put("b", "2")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> one.remove("a")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> one.entrySet().iterator().next().setValue("x"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> one.keySet().clear()).isInstanceOf(UnsupportedOperationException.class);
    assertThat(one).containsOnlyKeys("a");
  }
}
