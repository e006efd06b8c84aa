package org.contextvars4j.log4j2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.logging.log4j.util.SortedArrayStringMap;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.quicktheories.QuickTheory;
import org.quicktheories.core.Configuration;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Model-based properties of {@link FrozenContextData}: random sequences of {@code with}, {@code
 * without}, {@code withAll} and {@code withoutAll} over {@value #KEYS} keys, against a {@link
 * TreeMap} (whose order is the key order the map promises), so that maps grow past {@link
 * FrozenContextData#FLAT_LIMIT} into a trie and shrink back below {@link
 * FrozenContextData#FLATTEN_AT}, many times per sequence. After every step the new value is
 * compared with the model by every read; each step's form is checked against the switching rule; at
 * the end every earlier value is compared again (a value never changes).
 *
 * <p>Each property runs at least {@value #EXAMPLES} examples through QuickTheories, prints nothing
 * when they pass, and else fails with the shrunk operations, the assertion that broke, and a last
 * line {@code Seed was N}. To reproduce a failure, re-run with that seed (Surefire hands the
 * property on to the test JVM):
 *
 * {@snippet lang = shell :
 * mvn -pl contextvars4j-log4j2 -am test -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dtest=FrozenContextDataProperties -DQT_SEED=N
 * }
 */
final class FrozenContextDataProperties {

  /** Enough keys for a map to pass the flat limit well, few enough that keys repeat often. */
  private static final int KEYS = 40;

  /** Examples each property runs at least. */
  private static final int EXAMPLES = 200;

  /**
   * The keys, in an order unlike their String order ({@code "k10" < "k2"}), with keys that sort
   * before and after the {@code k}s and one that is a prefix of others.
   */
  private static final List<String> KEY_NAMES = keyNames();

  private static List<String> keyNames() {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < KEYS - 4; i++) {
      names.add("k" + i);
    }
    names.addAll(List.of("A", "request_id", "k", "zz"));
    return List.copyOf(names);
  }

  /** Pooled values, so that putting the identical value again (no change) is common. */
  private static final List<String> VALUES = List.of("v0", "v1", "v2", "v3", "");

  sealed interface Op permits With, Without, WithAll, WithoutAll {}

  /** {@code with(key, value)}; {@code fresh} passes a new String equal to the key. */
  record With(int key, @Nullable Object value, boolean fresh) implements Op {}

  record Without(int key, boolean fresh) implements Op {}

  /** {@code withAll} of the entries in this order (a LinkedHashMap), keys fresh or not. */
  record WithAll(Map<Integer, @Nullable Object> entries, boolean fresh) implements Op {}

  /** {@code withoutAll}; a negative key stands for a {@code null} in the list. */
  record WithoutAll(List<Integer> keys) implements Op {}

  /* ---- generators: every part drawn every time, so that shrinking one shifts no other ---- */

  private static final Gen<Integer> ANY_KEY = Generate.range(0, KEYS - 1);

  /** A value: a pooled String (mostly), a new String, null, or an Integer (a non-String). */
  private static Gen<@Nullable Object> values() {
    Gen<Integer> kind = Generate.range(0, 9);
    Gen<Integer> pick = Generate.range(0, VALUES.size() - 1);
    Gen<Integer> number = Generate.range(0, 99);
    return in -> {
      int k = kind.generate(in);
      String pooled = VALUES.get(pick.generate(in));
      int n = number.generate(in);
      return switch (k) {
        case 0 -> null;
        case 1, 2 -> n;
        case 3 -> new String(pooled.toCharArray());
        default -> pooled;
      };
    };
  }

  private static Gen<Op> ops() {
    Gen<Integer> kind = Generate.range(0, 19);
    Gen<@Nullable Object> value = values();
    Gen<Boolean> fresh = Generate.booleans();
    Gen<List<Integer>> many = lists().of(integers().between(-2, KEYS - 1)).ofSizeBetween(0, 20);
    Gen<List<@Nullable Object>> manyValues = lists().of(value).ofSize(20);
    return in -> {
      int k = kind.generate(in);
      int key = ANY_KEY.generate(in);
      Object v = value.generate(in);
      boolean f = fresh.generate(in);
      List<Integer> keys = many.generate(in);
      List<@Nullable Object> vs = manyValues.generate(in);
      if (k < 9) {
        return new With(key, v, f);
      }
      if (k < 14) {
        return new Without(key, f);
      }
      if (k < 17) {
        Map<Integer, @Nullable Object> entries = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
          entries.put(Math.max(keys.get(i), 0), vs.get(i));
        }
        return new WithAll(entries, f);
      }
      return new WithoutAll(keys);
    };
  }

  private static QuickTheory theory() {
    return qt().withExamples(Integer.getInteger(Configuration.EXAMPLES, EXAMPLES))
        .withShrinkCycles(Integer.getInteger(Configuration.SHRINKS, 2_000));
  }

  /* ---- the property ---- */

  @Test
  void randomUpdates_matchATreeMapModel_inEveryVersion_andSwitchFormsByTheRule() {
    theory()
        .forAll(lists().of(ops()).ofSizeBetween(0, 150))
        .checkAssert(FrozenContextDataProperties::check);
  }

  private static String key(int index, boolean fresh) {
    String name = KEY_NAMES.get(index);
    return fresh ? new String(name.toCharArray()) : name;
  }

  private static void check(List<Op> ops) {
    List<FrozenContextData> versions = new ArrayList<>();
    List<TreeMap<String, @Nullable Object>> models = new ArrayList<>();
    FrozenContextData map = FrozenContextData.EMPTY;
    TreeMap<String, @Nullable Object> model = new TreeMap<>();
    for (int step = 0; step < ops.size(); step++) {
      Op op = ops.get(step);
      FrozenContextData before = map;
      boolean changesNothing = changesNothing(model, op);
      map = apply(map, model, op);
      String where = "step " + step + ", " + op;
      checkAgainst(map, model, where);
      checkForm(before, op, map, where);
      if (changesNothing) {
        assertThat(map).as("%s changes nothing: the same value", where).isSameAs(before);
      }
      versions.add(map);
      models.add(new TreeMap<>(model));
    }
    for (int v = 0; v < versions.size(); v++) {
      checkAgainst(versions.get(v), models.get(v), "version " + v + " at the end");
    }
  }

  /**
   * {@return whether {@code op} leaves the model as it is: every key bound to the identical value}
   */
  private static boolean changesNothing(TreeMap<String, @Nullable Object> model, Op op) {
    return switch (op) {
      case With(int key, Object value, boolean fresh) -> bound(model, key, value);
      case Without(int key, boolean fresh) -> !model.containsKey(key(key, false));
      case WithAll(Map<Integer, @Nullable Object> entries, boolean fresh) ->
          entries.entrySet().stream().allMatch(e -> bound(model, e.getKey(), e.getValue()));
      case WithoutAll(List<Integer> keys) ->
          keys.stream().allMatch(key -> key < 0 || !model.containsKey(key(key, false)));
    };
  }

  private static boolean bound(
      TreeMap<String, @Nullable Object> model, int key, @Nullable Object value) {
    String name = key(key, false);
    return model.containsKey(name) && model.get(name) == value;
  }

  /** Applies {@code op} to {@code map} and to the model; returns the new map. */
  private static FrozenContextData apply(
      FrozenContextData map, TreeMap<String, @Nullable Object> model, Op op) {
    switch (op) {
      case With(int key, Object value, boolean fresh) -> {
        model.put(key(key, false), value);
        return map.with(key(key, fresh), value);
      }
      case Without(int key, boolean fresh) -> {
        model.remove(key(key, false));
        return map.without(key(key, fresh));
      }
      case WithAll(Map<Integer, @Nullable Object> entries, boolean fresh) -> {
        Map<String, @Nullable Object> added = new LinkedHashMap<>();
        entries.forEach((key, value) -> added.put(key(key, fresh), value));
        model.putAll(added);
        return map.withAll(added);
      }
      case WithoutAll(List<Integer> keys) -> {
        List<@Nullable String> gone = new ArrayList<>();
        for (int key : keys) {
          gone.add(key < 0 ? null : key(key, key % 2 == 0));
        }
        for (String key : gone) {
          if (key != null) { // a TreeMap refuses a null key
            model.remove(key);
          }
        }
        return map.withoutAll(gone);
      }
    }
  }

  /**
   * The switching rule: flat at most {@code FLAT_LIMIT} entries, a trie more than {@code
   * FLATTEN_AT}; a flat map turns into a trie only when it grows past the limit, a trie into a flat
   * map only when a removal leaves {@code FLATTEN_AT} or fewer.
   */
  private static void checkForm(
      FrozenContextData before, Op op, FrozenContextData after, String where) {
    int size = after.size();
    boolean expectFlat;
    if (op instanceof With || op instanceof WithAll) {
      expectFlat = before.isFlat() && size <= FrozenContextData.FLAT_LIMIT;
    } else {
      expectFlat = before.isFlat() || size <= FrozenContextData.FLATTEN_AT;
    }
    assertThat(after.isFlat())
        .as("%s: flat with %d entries, from flat %s", where, size, before.isFlat())
        .isEqualTo(expectFlat);
    if (size == 0) {
      assertThat(after).as(where).isSameAs(FrozenContextData.EMPTY);
    }
  }

  /** Every read of {@code map}, against the model. */
  private static void checkAgainst(
      FrozenContextData map, TreeMap<String, @Nullable Object> model, String where) {
    assertThat(map.size()).as(where).isEqualTo(model.size());
    assertThat(map.isEmpty()).as(where).isEqualTo(model.isEmpty());
    for (String name : KEY_NAMES) {
      String equal = new String(name.toCharArray());
      for (String key : List.of(name, equal)) {
        assertThat(map.containsKey(key))
            .as("%s: containsKey(%s)", where, key)
            .isEqualTo(model.containsKey(key));
        assertThat(map.<Object>getValue(key))
            .as("%s: getValue(%s)", where, key)
            .isEqualTo(model.get(key));
        assertThat(map.getText(key)).as(where).isEqualTo(FrozenContextData.text(model.get(key)));
      }
    }
    assertThat(map.containsKey("absent")).as(where).isFalse();

    // Key order, and the values passed unchanged (the very objects).
    List<String> keys = new ArrayList<>();
    List<@Nullable Object> values = new ArrayList<>();
    map.forEach(
        (String k, @Nullable Object v) -> {
          keys.add(k);
          values.add(v);
        });
    assertThat(keys).as("%s: forEach order", where).containsExactlyElementsOf(model.keySet());
    for (int i = 0; i < keys.size(); i++) {
      assertThat(values.get(i))
          .as("%s: value of %s", where, keys.get(i))
          .isSameAs(model.get(keys.get(i)));
    }
    List<String> triKeys = new ArrayList<>();
    map.forEach((String k, @Nullable Object v, List<String> state) -> state.add(k), triKeys);
    assertThat(triKeys).as(where).isEqualTo(keys);

    SortedArrayStringMap log4j = new SortedArrayStringMap();
    model.forEach(log4j::putValue);
    assertThat(map.toString()).as(where).isEqualTo(log4j.toString());
    assertThat(map).as(where).isEqualTo(log4j).hasSameHashCodeAs(log4j);
    assertThat(log4j.equals(map)).as(where).isTrue();
    assertThat(map.toMap()).as(where).isEqualTo(log4j.toMap());

    Map<String, @Nullable String> text = map.asStringMap();
    assertThat(new ArrayList<>(text.keySet()))
        .as("%s: view order", where)
        .containsExactlyElementsOf(model.keySet());
    assertThat(text).as(where).isEqualTo(log4j.toMap()).hasSize(model.size());
    for (Map.Entry<String, @Nullable String> entry : text.entrySet()) {
      // A view that believed every value a String would hand out an Integer here.
      assertThat((Object) entry.getValue())
          .as(where)
          .isEqualTo(FrozenContextData.text(model.get(entry.getKey())));
      assertThat(text.get(new String(entry.getKey().toCharArray())))
          .as(where)
          .isEqualTo(entry.getValue());
    }
    assertThat(text.get(42)).as("%s: a key of another type is absent", where).isNull();
    assertThat(Collections.unmodifiableMap(text)).as(where).isEqualTo(text);
  }
}
