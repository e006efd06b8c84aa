package org.contextvars4j.log4j2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.logging.log4j.core.impl.JdkMapAdapterStringMap;
import org.apache.logging.log4j.util.ReadOnlyStringMap;
import org.apache.logging.log4j.util.SortedArrayStringMap;
import org.apache.logging.log4j.util.StringMap;
import org.junit.jupiter.api.Test;

/**
 * The immutable {@link StringMap} that a {@link ContextThreadContextMap} stores: every {@link
 * ReadOnlyStringMap} method, compared with Log4j's own {@link SortedArrayStringMap} holding the
 * same entries, and the frozen mutators.
 */
final class FrozenContextDataTest {

  /** The seed of the model test: {@code -Dcv4j.seed}, else the clock. */
  private static final long SEED = Long.getLong("cv4j.seed", System.nanoTime());

  private static FrozenContextData of(Object... keysAndValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return FrozenContextData.EMPTY.withAll(map);
  }

  private static SortedArrayStringMap sorted(Object... keysAndValues) {
    SortedArrayStringMap map = new SortedArrayStringMap();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.putValue((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  private static List<String> forEachBi(ReadOnlyStringMap map) {
    List<String> seen = new ArrayList<>();
    map.forEach((String k, Object v) -> seen.add(k + "=" + v));
    return seen;
  }

  private static List<String> forEachTri(ReadOnlyStringMap map) {
    List<String> seen = new ArrayList<>();
    map.forEach((String k, Object v, List<String> s) -> s.add(k + "=" + v), seen);
    return seen;
  }

  /* ---- empty ---- */

  @Test
  void empty_hasNoEntries_andEqualsLog4jsEmptyMap() {
    FrozenContextData empty = FrozenContextData.EMPTY;

    assertThat(empty.isEmpty()).isTrue();
    assertThat(empty.size()).isZero();
    assertThat(empty.toMap()).isEmpty();
    assertThat(empty.toString()).isEqualTo("{}");
    assertThat(forEachBi(empty)).isEmpty();
    assertThat(forEachTri(empty)).isEmpty();
    assertThat(empty).isEqualTo(new SortedArrayStringMap()).hasSameHashCodeAs(new SortedArrayStringMap());
    assertThat(new SortedArrayStringMap().equals(empty)).isTrue();
  }

  /* ---- persistent updates ---- */

  @Test
  void with_returnsNewMap_andLeavesTheOldOneUnchanged() {
    FrozenContextData one = FrozenContextData.EMPTY.with("a", "1");
    FrozenContextData two = one.with("b", "2");
    FrozenContextData replaced = two.with("a", "x");

    assertThat(FrozenContextData.EMPTY.isEmpty()).isTrue();
    assertThat(one.toMap()).containsExactly(entry("a", "1"));
    assertThat(two.toMap()).containsOnly(entry("a", "1"), entry("b", "2"));
    assertThat(replaced.toMap()).containsOnly(entry("a", "x"), entry("b", "2"));
  }

  @Test
  void updates_thatChangeNothing_returnTheSameMap() {
    String value = "1";
    FrozenContextData map = FrozenContextData.EMPTY.with("a", value);

    assertThat(map.with("a", value)).as("same value again").isSameAs(map);
    assertThat(map.without("absent")).isSameAs(map);
    assertThat(map.withAll(Map.of())).isSameAs(map);
    assertThat(map.withoutAll(Arrays.asList("absent", null))).isSameAs(map);
  }

  @Test
  void removingTheLastEntry_returnsTheSharedEmptyMap() {
    assertThat(of("a", "1").without("a")).isSameAs(FrozenContextData.EMPTY);
    assertThat(of("a", "1", "b", "2").withoutAll(List.of("a", "b")))
        .isSameAs(FrozenContextData.EMPTY);
  }

  @Test
  void withAll_nullKey_throwsNpe_andTheMapIsUnchanged() {
    FrozenContextData map = of("a", "1");
    Map<String, String> bad = new LinkedHashMap<>();
    bad.put("b", "2");
    bad.put(null, "3");
    bad.put("c", "4");

    assertThatThrownBy(() -> map.withAll(bad))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("may not be null");
    assertThat(map.toMap()).containsExactly(entry("a", "1"));
  }

  /* ---- ReadOnlyStringMap ---- */

  @Test
  void getValue_and_containsKey_findEntries_nullKeyIsAbsent() {
    FrozenContextData map = of("a", "1", "n", null, "i", 42);

    assertThat(map.<String>getValue("a")).isEqualTo("1");
    assertThat(map.<Object>getValue("n")).isNull();
    assertThat(map.<Integer>getValue("i")).as("values keep their type").isEqualTo(42);
    assertThat(map.<Object>getValue("absent")).isNull();
    assertThat(map.<Object>getValue(null)).isNull();
    assertThat(map.containsKey("a")).isTrue();
    assertThat(map.containsKey("n")).as("a key bound to null is present").isTrue();
    assertThat(map.containsKey("absent")).isFalse();
    assertThat(map.containsKey(null)).isFalse();
    assertThat(map.size()).isEqualTo(3);
    assertThat(map.isEmpty()).isFalse();
  }

  @Test
  void toMap_isAMutableCopy_withValuesAsText() {
    FrozenContextData map = of("a", "1", "n", null, "i", 42);

    Map<String, String> copy = map.toMap();
    assertThat(copy).containsOnly(entry("a", "1"), entry("n", null), entry("i", "42"));
    copy.put("a", "changed");
    copy.put("new", "x");

    assertThat(map.<String>getValue("a")).isEqualTo("1");
    assertThat(map.containsKey("new")).isFalse();
    assertThat(map.toMap()).isNotSameAs(copy).isEqualTo(sorted("a", "1", "n", null, "i", 42).toMap());
  }

  @Test
  void forEach_bothForms_visitEveryEntryInKeyOrder_asLog4jsOwnMap() {
    SplittableRandom random = new SplittableRandom(SEED);
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      keys.add("k" + random.nextInt(1_000_000));
    }
    Object[] entries = new Object[keys.size() * 2];
    for (int i = 0; i < keys.size(); i++) {
      entries[2 * i] = keys.get(i);
      entries[2 * i + 1] = i % 7 == 0 ? null : "v" + i;
    }
    FrozenContextData ours = of(entries);
    SortedArrayStringMap theirs = sorted(entries);

    List<String> visited = forEachBi(ours);
    assertThat(visited).as("seed %d", SEED).isEqualTo(forEachBi(theirs));
    // In key order: the keys, not the "key=value" strings, are sorted ("k1=" > "k12" in text).
    assertThat(visited.stream().map(entry -> entry.substring(0, entry.indexOf('='))).toList())
        .as("seed %d", SEED)
        .isSorted();
    assertThat(forEachTri(ours)).as("seed %d", SEED).isEqualTo(forEachTri(theirs));
    assertThat(ours.toString()).as("seed %d", SEED).isEqualTo(theirs.toString());
  }

  @Test
  void forEach_passesValuesOfAnyType_unchanged() {
    Object value = List.of(1, 2);
    FrozenContextData map = of("list", value);
    List<Object> seen = new ArrayList<>();

    map.forEach((String k, Object v) -> seen.add(v));

    assertThat(seen).singleElement().isSameAs(value);
  }

  @Test
  void toString_isLikeLog4js_keysInOrder() {
    assertThat(of("b", "2", "a", "1", "c", null).toString()).isEqualTo("{a=1, b=2, c=null}");
  }

  /* ---- equality ---- */

  @Test
  void equals_and_hashCode_matchSortedArrayStringMap_ofTheSameContent_bothWays() {
    FrozenContextData ours = of("a", "1", "b", null, "c", "3");
    SortedArrayStringMap theirs = sorted("c", "3", "a", "1", "b", null);

    assertThat(ours).isEqualTo(theirs).hasSameHashCodeAs(theirs);
    assertThat(theirs.equals(ours)).isTrue();
    assertThat(ours).isEqualTo(of("c", "3", "b", null, "a", "1"));
    assertThat(ours).isEqualTo(new JdkMapAdapterStringMap(new HashMap<>(ours.toMap()), true));
    assertThat(ours.hashCode()).isEqualTo(ours.toMap().hashCode());
  }

  @Test
  void equals_comparesValuesAsText_asLog4jsToMapDoes() {
    FrozenContextData number = of("i", 42);
    SortedArrayStringMap text = sorted("i", "42");

    assertThat(number).isEqualTo(text).hasSameHashCodeAs(text);
    assertThat(text.equals(number)).isTrue();
  }

  @Test
  void equals_isFalse_forOtherContent_orOtherTypes() {
    FrozenContextData ours = of("a", "1", "b", "2");

    assertThat(ours).isNotEqualTo(sorted("a", "1", "b", "x"));
    assertThat(ours).isNotEqualTo(sorted("a", "1", "c", "2"));
    assertThat(ours).isNotEqualTo(sorted("a", "1"));
    assertThat(ours).isNotEqualTo(sorted("a", "1", "b", "2", "c", "3"));
    assertThat(of("a", null)).isNotEqualTo(sorted("b", null));
    assertThat(of("a", null)).isNotEqualTo(sorted("a", "null"));
    assertThat(ours).as("a plain Map is no ReadOnlyStringMap").isNotEqualTo(Map.of("a", "1", "b", "2"));
    assertThat(ours).isNotEqualTo(null);
  }

  /* ---- frozen ---- */

  @Test
  void mutators_throwUnsupportedOperation_andChangeNothing() {
    FrozenContextData map = of("a", "1");

    assertThat(map.isFrozen()).isTrue();
    assertThatThrownBy(map::clear).isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("frozen");
    assertThatThrownBy(() -> map.putValue("b", "2")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> map.putAll(sorted("b", "2"))).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> map.remove("a")).isInstanceOf(UnsupportedOperationException.class);
    map.freeze(); // already frozen: nothing to do
    assertThat(map.isFrozen()).isTrue();
    assertThat(map.toMap()).containsExactly(entry("a", "1"));
  }

  @Test
  void asStringMap_isACachedUnmodifiableView_whenEveryValueIsAString() {
    FrozenContextData map = of("a", "1", "n", null);

    Map<String, String> view = map.asStringMap();
    assertThat(view).containsOnly(entry("a", "1"), entry("n", null));
    assertThat(map.asStringMap()).as("no new copy per call").isSameAs(view);
    assertThatThrownBy(() -> view.put("b", "2")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> view.remove("a")).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void asStringMap_convertsValuesToText_whenSomeValueIsNoString() {
    FrozenContextData map = of("a", "1", "i", 42);

    assertThat(map.asStringMap()).containsOnly(entry("a", "1"), entry("i", "42"));
    assertThat(map.asStringMap().get("i")).isInstanceOf(String.class);
    assertThat(map.with("i", "7").asStringMap()).as("back to Strings only").containsOnly(entry("a", "1"), entry("i", "7"));
    assertThat(map.without("i").asStringMap().values()).containsExactly("1");
  }

  /* ---- serialisation ---- */

  @Test
  void serialisation_writesAFrozenSortedArrayStringMap_withTheSameContent() throws Exception {
    FrozenContextData map = of("a", "1", "n", null, "i", 42);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(map);
    }
    Object read;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      read = in.readObject();
    }

    assertThat(read).isInstanceOf(SortedArrayStringMap.class).isEqualTo(map);
    assertThat(((StringMap) read).isFrozen()).isTrue();
    assertThat(((StringMap) read).<Integer>getValue("i")).isEqualTo(42);
  }

  /* ---- model: random updates against SortedArrayStringMap ---- */

  @Test
  void randomUpdates_alwaysMatchSortedArrayStringMap() {
    System.out.println("FrozenContextDataTest seed: " + SEED + " (replay with -Dcv4j.seed=" + SEED + ")");
    SplittableRandom random = new SplittableRandom(SEED);
    FrozenContextData ours = FrozenContextData.EMPTY;
    SortedArrayStringMap model = new SortedArrayStringMap();
    for (int step = 0; step < 3_000; step++) {
      String key = "k" + random.nextInt(64);
      FrozenContextData before = ours;
      Map<String, String> beforeContent = before.toMap();
      switch (random.nextInt(6)) {
        case 0, 1 -> {
          String value = random.nextInt(10) == 0 ? null : "v" + random.nextInt(8);
          ours = ours.with(key, value);
          model.putValue(key, value);
        }
        case 2 -> {
          Integer value = random.nextInt(8);
          ours = ours.with(key, value);
          model.putValue(key, value);
        }
        case 3 -> {
          ours = ours.without(key);
          model.remove(key);
        }
        case 4 -> {
          Map<String, Object> more = new HashMap<>();
          for (int i = random.nextInt(4); i > 0; i--) {
            more.put("k" + random.nextInt(64), random.nextBoolean() ? "w" + i : (Object) i);
          }
          ours = ours.withAll(more);
          more.forEach(model::putValue);
        }
        default -> {
          List<String> gone = List.of("k" + random.nextInt(64), key);
          ours = ours.withoutAll(gone);
          gone.forEach(model::remove);
        }
      }
      String where = "seed " + SEED + ", step " + step;
      assertThat(ours).as(where).isEqualTo(model).hasSameHashCodeAs(model);
      assertThat(ours.size()).as(where).isEqualTo(model.size());
      assertThat(ours.toString()).as(where).isEqualTo(model.toString());
      assertThat(ours.asStringMap()).as(where).isEqualTo(model.toMap());
      assertThat(before.toMap()).as("%s: the old value is unchanged", where).isEqualTo(beforeContent);
    }
  }
}
