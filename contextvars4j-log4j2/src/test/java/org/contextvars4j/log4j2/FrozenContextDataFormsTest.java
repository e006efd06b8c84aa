package org.contextvars4j.log4j2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.apache.logging.log4j.util.ReadOnlyStringMap;
import org.apache.logging.log4j.util.SortedArrayStringMap;
import org.junit.jupiter.api.Test;

/**
 * The two forms of {@link FrozenContextData}, a flat array up to {@link
 * FrozenContextData#FLAT_LIMIT} entries and a trie above, and the switches between them: when they
 * happen, that they keep every entry, and that both forms read the same.
 */
final class FrozenContextDataFormsTest {

  private static final int LIMIT = FrozenContextData.FLAT_LIMIT;
  private static final int FLATTEN_AT = FrozenContextData.FLATTEN_AT;

  /** Key {@code i}, made so that String order differs from {@code i}'s order. */
  private static String key(int i) {
    return "key" + (i * 7919 % 1000);
  }

  /** A map of keys {@code 0 .. size-1}, put one by one; value of key i is "v" + i. */
  private static FrozenContextData grown(int size) {
    FrozenContextData map = FrozenContextData.EMPTY;
    for (int i = 0; i < size; i++) {
      map = map.with(key(i), "v" + i);
    }
    return map;
  }

  private static TreeMap<String, Object> model(int size) {
    TreeMap<String, Object> model = new TreeMap<>();
    for (int i = 0; i < size; i++) {
      model.put(key(i), "v" + i);
    }
    return model;
  }

  private static List<String> keysInForEachOrder(ReadOnlyStringMap map) {
    List<String> keys = new ArrayList<>();
    map.forEach((String k, Object v) -> keys.add(k));
    return keys;
  }

  /** Checks that {@code map} holds exactly {@code model}, read every way, in key order. */
  private static void assertHolds(FrozenContextData map, TreeMap<String, Object> model) {
    SortedArrayStringMap log4j = new SortedArrayStringMap();
    model.forEach(log4j::putValue);
    assertThat(map.size()).isEqualTo(model.size());
    assertThat(keysInForEachOrder(map)).containsExactlyElementsOf(model.keySet());
    model.forEach(
        (k, v) -> {
          assertThat(map.<Object>getValue(k)).isEqualTo(v);
          assertThat(map.<Object>getValue(new String(k.toCharArray()))).isEqualTo(v);
          assertThat(map.containsKey(new String(k.toCharArray()))).isTrue();
        });
    assertThat(map).isEqualTo(log4j).hasSameHashCodeAs(log4j);
    assertThat(map.toString()).isEqualTo(log4j.toString());
    assertThat(map.toMap()).isEqualTo(log4j.toMap());
    assertThat(new ArrayList<>(map.asStringMap().keySet()))
        .containsExactlyElementsOf(model.keySet());
  }

  /* ---- the limit ---- */

  @Test
  void flatLimit_fitsTheBitsOfALong_thatWithoutAllMarksEntriesIn() {
    assertThat(LIMIT).isBetween(1, Long.SIZE);
    assertThat(FLATTEN_AT).isLessThan(LIMIT);
  }

  /* ---- with / without across the limit ---- */

  @Test
  void with_upToTheLimit_staysFlat_andOneMoreMovesTheMapToATrie() {
    FrozenContextData map = FrozenContextData.EMPTY;
    for (int i = 0; i < LIMIT; i++) {
      map = map.with(key(i), "v" + i);
      assertThat(map.isFlat()).as("%d entries", i + 1).isTrue();
    }

    FrozenContextData grown = map.with(key(LIMIT), "v" + LIMIT);

    assertThat(grown.isFlat()).isFalse();
    assertHolds(grown, model(LIMIT + 1));
    assertHolds(map, model(LIMIT));
    assertThat(map.isFlat()).as("the old value keeps its form").isTrue();
  }

  @Test
  void without_fromATrie_staysATrieAboveFlattenAt_andFlattensAtIt() {
    int size = LIMIT + 4;
    FrozenContextData map = grown(size);
    TreeMap<String, Object> model = model(size);
    assertThat(map.isFlat()).isFalse();

    for (int i = size - 1; i >= 0; i--) {
      map = map.without(key(i));
      model.remove(key(i));
      assertThat(map.isFlat()).as("%d entries", i).isEqualTo(i <= FLATTEN_AT);
      assertHolds(map, model);
    }
    assertThat(map).isSameAs(FrozenContextData.EMPTY);
  }

  @Test
  void putAndRemove_atTheLimit_switchesOnce_notAtEveryChange() {
    FrozenContextData full = grown(LIMIT);
    String extra = "extra";

    FrozenContextData map = full;
    for (int round = 0; round < 5; round++) {
      map = map.with(extra, "x").without(extra);
      assertThat(map.isFlat())
          .as("round %d: back at %d entries, still a trie", round, LIMIT)
          .isFalse();
      assertHolds(map, model(LIMIT));
    }

    FrozenContextData small = grown(LIMIT + 1);
    for (int i = LIMIT; i >= FLATTEN_AT; i--) {
      small = small.without(key(i));
    }
    assertThat(small.isFlat()).isTrue();
    for (int round = 0; round < 5; round++) {
      small = small.with(extra, "x");
      assertThat(small.isFlat())
          .as("round %d: %d entries, still flat", round, FLATTEN_AT + 1)
          .isTrue();
      small = small.without(extra);
      assertThat(small.isFlat()).isTrue();
    }
    assertHolds(small, model(FLATTEN_AT));
  }

  @Test
  void with_inTheFlatForm_insertsAtTheKeysPlace_first_middle_last_andReplacesInPlace() {
    FrozenContextData map = FrozenContextData.EMPTY.with("m", "1").with("c", "2").with("x", "3");

    map = map.with("a", "first").with("n", "middle").with("z", "last").with("m", "replaced");

    assertThat(map.isFlat()).isTrue();
    assertThat(keysInForEachOrder(map)).containsExactly("a", "c", "m", "n", "x", "z");
    assertThat(map.toString()).isEqualTo("{a=first, c=2, m=replaced, n=middle, x=3, z=last}");
  }

  @Test
  void lookups_withAnEqualButDistinctKey_findTheEntry_inBothForms() {
    for (int size : new int[] {1, 5, LIMIT, LIMIT + 1, 3 * LIMIT}) {
      FrozenContextData map = grown(size);
      for (int i = 0; i < size; i++) {
        String copy = new String(key(i).toCharArray());
        assertThat(map.getText(copy)).as("size %d, key %s", size, copy).isEqualTo("v" + i);
        assertThat(map.containsKey(copy)).isTrue();
        assertThat(map.with(copy, "new").<String>getValue(key(i))).isEqualTo("new");
        assertThat(map.without(copy).containsKey(key(i))).isFalse();
        assertThat(map.without(copy).size()).isEqualTo(size - 1);
      }
      assertThat(map.getText("absent")).isNull();
      assertThat(map.containsKey("absent")).isFalse();
      assertThat(map.without("absent")).isSameAs(map);
    }
  }

  /* ---- withAll / withoutAll across the limit ---- */

  @Test
  void withAll_intoAFlatMap_staysFlatUpToTheLimit_andMovesToATrieBeyondIt() {
    FrozenContextData ten = grown(10);
    Map<String, Object> sixMore = new LinkedHashMap<>();
    for (int i = 10; i < LIMIT; i++) {
      sixMore.put(key(i), "v" + i);
    }
    sixMore.put(key(3), "v3"); // already there, with an equal value: replaced, no new entry

    FrozenContextData full = ten.withAll(sixMore);
    FrozenContextData past = full.withAll(Map.of(key(LIMIT), "v" + LIMIT));

    assertThat(full.isFlat()).isTrue();
    assertHolds(full, model(LIMIT));
    assertThat(past.isFlat()).isFalse();
    assertHolds(past, model(LIMIT + 1));
  }

  @Test
  void withAll_ofMoreThanTheLimit_intoEmpty_makesATrie_andIntoATrie_keepsATrie() {
    Map<String, Object> many = new LinkedHashMap<>(model(LIMIT + 5));

    FrozenContextData map = FrozenContextData.EMPTY.withAll(many);
    FrozenContextData more = map.withAll(Map.of("a", "1", "b", "2"));

    assertThat(map.isFlat()).isFalse();
    assertHolds(map, model(LIMIT + 5));
    assertThat(more.isFlat()).isFalse();
    assertThat(more.size()).isEqualTo(LIMIT + 7);
    assertThat(map.withAll(many)).as("the identical values again").isSameAs(map);
  }

  @Test
  void withAll_ofAMapThatUnderstatesItsSize_stillPutsEveryEntry() {
    // As a concurrent map may, when it grows while it is read.
    for (int size : new int[] {5, LIMIT, LIMIT + 3}) {
      Map<String, Object> lying = understating(model(size));

      FrozenContextData map = FrozenContextData.EMPTY.with("zzz", "last").withAll(lying);

      TreeMap<String, Object> expected = model(size);
      expected.put("zzz", "last");
      assertHolds(map, expected);
      assertThat(map.isFlat()).as("size %d", size + 1).isEqualTo(size + 1 <= LIMIT);
    }
  }

  /** A map whose {@code size()} says 1, whatever it holds. */
  private static Map<String, Object> understating(Map<String, Object> entries) {
    return new AbstractMap<>() {
      @Override
      public Set<Map.Entry<String, Object>> entrySet() {
        return new AbstractSet<>() {
          @Override
          public Iterator<Map.Entry<String, Object>> iterator() {
            return entries.entrySet().iterator();
          }

          @Override
          public int size() {
            return 1;
          }
        };
      }
    };
  }

  @Test
  void withAll_nullKey_onEveryPath_throwsNpe_andChangesNothing() {
    // {map size, entries before the null key}: flat + few (the array path), flat + many (a trie
    // made from the array), trie + few (the trie path).
    for (int[] sizes : new int[][] {{2, 3}, {2, LIMIT + 1}, {LIMIT + 2, 3}}) {
      FrozenContextData map = grown(sizes[0]);
      Map<String, String> bad = new LinkedHashMap<>();
      for (int i = 0; i < sizes[1]; i++) {
        bad.put("new" + i, "x");
      }
      bad.put(null, "x");

      assertThatThrownBy(() -> map.withAll(bad))
          .as("sizes %s", Arrays.toString(sizes))
          .isInstanceOf(NullPointerException.class);
      assertHolds(map, model(sizes[0]));
      assertThat(map.isFlat()).isEqualTo(sizes[0] <= LIMIT);
    }
  }

  @Test
  void withoutAll_fromATrie_flattensAtFlattenAtOrFewer_andEmptiesToTheSharedEmpty() {
    int size = LIMIT + 4;
    FrozenContextData trie = grown(size);
    List<String> downToFlattenAtPlusOne = new ArrayList<>();
    for (int i = FLATTEN_AT + 1; i < size; i++) {
      downToFlattenAtPlusOne.add(key(i));
    }
    List<String> downToFlattenAt = new ArrayList<>(downToFlattenAtPlusOne);
    downToFlattenAt.add(key(FLATTEN_AT));

    FrozenContextData stillTrie = trie.withoutAll(downToFlattenAtPlusOne);
    FrozenContextData flat = trie.withoutAll(downToFlattenAt);

    assertThat(stillTrie.isFlat()).isFalse();
    assertHolds(stillTrie, model(FLATTEN_AT + 1));
    assertThat(flat.isFlat()).isTrue();
    assertHolds(flat, model(FLATTEN_AT));
    assertThat(trie.withoutAll(new ArrayList<>(model(size).keySet())))
        .isSameAs(FrozenContextData.EMPTY);
    assertThat(trie.withoutAll(Arrays.asList("absent", null))).isSameAs(trie);
  }

  @Test
  void withoutAll_fromAFlatMap_removesEveryListedKey_repeatsAndNullsIncluded() {
    FrozenContextData map = grown(LIMIT);
    TreeMap<String, Object> model = model(LIMIT);
    List<String> gone = Arrays.asList(key(0), null, key(LIMIT - 1), key(0), "absent", key(7));
    gone.stream().filter(Objects::nonNull).forEach(model::remove); // a TreeMap refuses null

    FrozenContextData less = map.withoutAll(gone);

    assertThat(less.isFlat()).isTrue();
    assertHolds(less, model);
    assertThat(map.withoutAll(new ArrayList<>(model(LIMIT).keySet())))
        .isSameAs(FrozenContextData.EMPTY);
  }

  /* ---- both forms read the same ---- */

  @Test
  void aFlatMapAndATrie_ofTheSameEntries_areEqual_andReadTheSame() {
    int size = LIMIT - 2;
    FrozenContextData flat = grown(size);
    FrozenContextData trie = grown(LIMIT + 1);
    for (int i = LIMIT; i >= size; i--) {
      trie = trie.without(key(i));
    }
    assertThat(flat.isFlat()).isTrue();
    assertThat(trie.isFlat()).isFalse();

    assertThat(trie).isEqualTo(flat).hasSameHashCodeAs(flat);
    assertThat(flat).isEqualTo(trie);
    assertThat(trie.toString()).isEqualTo(flat.toString());
    assertThat(keysInForEachOrder(trie)).isEqualTo(keysInForEachOrder(flat));
    assertThat(trie.toMap()).isEqualTo(flat.toMap());
    assertThat(trie.asStringMap()).isEqualTo(flat.asStringMap());
    assertThat(new ArrayList<>(trie.asStringMap().entrySet()))
        .isEqualTo(new ArrayList<>(flat.asStringMap().entrySet()));
  }

  @Test
  void nonStringValues_crossBothSwitches_andTheTextViewsConvertThem() {
    FrozenContextData map = grown(4).with("i", 42).with("d", 1.5);
    for (int i = 4; i <= LIMIT; i++) {
      map = map.with(key(i), "v" + i);
    }
    assertThat(map.isFlat()).isFalse();
    assertThat(map.asStringMap()).containsEntry("i", "42").containsEntry("d", "1.5");

    for (int i = 4; i <= LIMIT; i++) {
      map = map.without(key(i));
    }
    assertThat(map.isFlat()).isTrue();
    assertThat(map.<Integer>getValue("i")).isEqualTo(42);
    assertThat(map.asStringMap()).containsEntry("i", "42").containsEntry("d", "1.5");
    assertThat(map.asStringMap().values()).allMatch(v -> v instanceof String);

    FrozenContextData strings = map.with("i", "42").without("d");
    assertThat(strings.asStringMap().values()).allMatch(v -> v instanceof String);
    assertThat(strings).isEqualTo(map.without("d"));
  }

  @Test
  void asStringMap_inBothForms_isUnmodifiable_inKeyOrder_andAbsentForOtherKeys() {
    for (FrozenContextData map : List.of(grown(5), grown(LIMIT + 3), grown(5).with("i", 7))) {
      Map<String, String> view = map.asStringMap();

      assertThat(map.asStringMap()).as("cached").isSameAs(view);
      assertThat(new ArrayList<>(view.keySet())).isSorted();
      assertThat(view.get(42)).isNull();
      assertThat(view.containsKey(42)).isFalse();
      assertThat(view.getOrDefault("absent", "fallback")).isEqualTo("fallback");
      assertThatThrownBy(() -> view.put("b", "2"))
          .isInstanceOf(UnsupportedOperationException.class);
      assertThatThrownBy(() -> view.remove(key(0)))
          .isInstanceOf(UnsupportedOperationException.class);
      assertThatThrownBy(view::clear).isInstanceOf(UnsupportedOperationException.class);
      assertThatThrownBy(() -> view.entrySet().iterator().next().setValue("x"))
          .isInstanceOf(UnsupportedOperationException.class);
      assertThatThrownBy(() -> view.keySet().removeIf(k -> true))
          .isInstanceOf(UnsupportedOperationException.class);
    }
  }

  @Test
  void serialisation_ofATrie_writesAFrozenSortedArrayStringMap_withTheSameContent()
      throws Exception {
    FrozenContextData map = grown(LIMIT + 3).with("i", 42);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(map);
    }
    Object read;
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      read = in.readObject();
    }

    assertThat(read).isInstanceOf(SortedArrayStringMap.class).isEqualTo(map);
    assertThat(((SortedArrayStringMap) read).<Integer>getValue("i")).isEqualTo(42);
  }

  /* ---- through ContextThreadContextMap ---- */

  @Test
  void threadContextMap_growingPastTheLimitAndBack_keepsEveryEntry_inKeyOrder() {
    ContextThreadContextMap threadContext = new ContextThreadContextMap();
    TreeMap<String, Object> model = new TreeMap<>();
    for (int i = 0; i < 2 * LIMIT; i++) {
      threadContext.put(key(i), "v" + i);
      model.put(key(i), "v" + i);
      assertThat(threadContext.getImmutableMapOrNull()).isEqualTo(model);
    }
    assertThat(threadContext.toString()).isEqualTo(model.toString());
    for (int i = 0; i < 2 * LIMIT; i++) {
      threadContext.remove(key(i));
      model.remove(key(i));
      assertThat(threadContext.getCopy()).isEqualTo(model);
      assertThat(threadContext.get(key(i))).isNull();
      if (i + 1 < 2 * LIMIT) {
        assertThat(threadContext.get(key(i + 1))).isEqualTo("v" + (i + 1));
      }
      assertThat(threadContext.toString()).isEqualTo(model.toString());
    }
    assertThat(threadContext.isEmpty()).isTrue();
    assertThat(threadContext.getImmutableMapOrNull()).isNull();
    assertThat(threadContext.getReadOnlyContextData()).isSameAs(FrozenContextData.EMPTY);
  }
}
