package org.contextvars4j.hamt;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import org.jspecify.annotations.Nullable;

/**
 * Model-based properties of {@link Hamt}: random sequences of {@code with}/{@code without}/{@code
 * get} against a {@link HashMap}, with keys whose hash codes are drawn so that full 32-bit
 * collisions and partial ones (hashes agreeing on their low 5, 10, ..., 30 bits) are common.
 *
 * <p>On failure jqwik prints the seed and the shrunk sample; re-run one with {@code @Property(seed
 * = "...")}.
 */
final class HamtProperties {

  /**
   * A key with a chosen hash. Within one try the hash is a function of the id (the universe fixes
   * it), so equals and hashCode agree.
   */
  record Key(int id, int hash) {
    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public String toString() {
      return "k" + id + "#" + Integer.toHexString(hash);
    }
  }

  sealed interface Op permits With, Without, Get {}

  /**
   * {@code with(key, value)}; when {@code fresh}, the value is a new String object equal to the
   * pooled one, so that "identical" and "equal" values both occur.
   */
  record With(int key, @Nullable String value, boolean fresh) implements Op {}

  record Without(int key) implements Op {}

  record Get(int key) implements Op {}

  private static final int MAX_KEYS = 64;

  /* ---- generators ---- */

  /** Hashes that make collisions likely: full ones and ones in the low 5..30 bits. */
  private static Arbitrary<Integer> hashes() {
    Arbitrary<Integer> pool =
        Arbitraries.of(
            0,
            1,
            2,
            31,
            32,
            33,
            63,
            64,
            1 << 10,
            1 << 15,
            1 << 20,
            1 << 25,
            1 << 30,
            Integer.MIN_VALUE,
            -1,
            Integer.MAX_VALUE,
            0x80000001,
            0xC0000000,
            0x40000000,
            0x3FFFFFFF,
            0xFFFFFFE0,
            0x42108421);
    Arbitrary<Integer> fewBits =
        Combinators.combine(
                Arbitraries.integers(),
                Arbitraries.of(
                    0x0,
                    0x3,
                    0x21,
                    0x421,
                    0x8421,
                    0xC0000000,
                    0xC0000001,
                    0x42108421,
                    0x8000001F,
                    0xFFFFFFFF))
            .as((random, mask) -> random & mask);
    Arbitrary<Integer> sameLowBits =
        Combinators.combine(Arbitraries.integers(), Arbitraries.of(5, 10, 15, 20, 25, 30))
            .as((random, bits) -> 0x1234_5678 & ((1 << bits) - 1) | (random << bits));
    return Arbitraries.frequencyOf(
        Tuple.of(4, pool),
        Tuple.of(4, fewBits),
        Tuple.of(3, sameLowBits),
        Tuple.of(1, Arbitraries.integers()));
  }

  @Provide
  Arbitrary<List<Integer>> universes() {
    return hashes()
        .list()
        .ofMinSize(1)
        .ofMaxSize(MAX_KEYS)
        .withSizeDistribution(RandomDistribution.uniform());
  }

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Integer> key = Arbitraries.integers().between(0, MAX_KEYS - 1);
    Arbitrary<@Nullable String> value = Arbitraries.of("a", "b", "c").injectNull(0.2);
    Arbitrary<Op> with =
        Combinators.combine(key, value, Arbitraries.of(false, false, true)).as(With::new);
    Arbitrary<Op> without = key.map(Without::new);
    Arbitrary<Op> get = key.map(Get::new);
    return Arbitraries.frequencyOf(Tuple.of(6, with), Tuple.of(3, without), Tuple.of(1, get))
        .list()
        .ofMaxSize(250)
        .withSizeDistribution(RandomDistribution.uniform());
  }

  /* ---- properties ---- */

  @Property
  void randomOps_matchHashMapModelInEveryVersion(
      @ForAll("universes") List<Integer> universe, @ForAll("ops") List<Op> ops) {
    List<Key> keys = keysOf(universe);
    Hamt<Key, String> h = Hamt.empty();
    Map<Key, String> model = new HashMap<>();
    List<Hamt<Key, String>> versions = new ArrayList<>();
    List<Map<Key, String>> snapshots = new ArrayList<>();
    versions.add(h);
    snapshots.add(copyOf(model));

    for (Op op : ops) {
      Hamt<Key, String> before = h;
      switch (op) {
        case With(int k, String pooled, boolean fresh) -> {
          Key key = keys.get(k % keys.size());
          String value = pooled != null && fresh ? new String(pooled) : pooled;
          boolean identical = model.containsKey(key) && model.get(key) == value;
          h = h.with(key, value);
          model.put(key, value);
          if (identical) {
            assertThat(h).as("%s: identical value", op).isSameAs(before);
          } else {
            assertThat(h).as("%s: a change makes a new map", op).isNotSameAs(before);
          }
          assertThat(h.get(key)).as("%s stores that very object", op).isSameAs(value);
        }
        case Without(int k) -> {
          Key key = keys.get(k % keys.size());
          boolean present = model.containsKey(key);
          h = h.without(key);
          model.remove(key);
          if (present) {
            assertThat(h).as("%s", op).isNotSameAs(before);
          } else {
            assertThat(h).as("%s: absent key", op).isSameAs(before);
          }
        }
        case Get(int k) -> {
          Key key = keys.get(k % keys.size());
          assertThat(h.get(key)).as("%s", op).isSameAs(model.get(key));
        }
      }
      checkMatches(h, model, keys);
      checkEqualToRebuilt(h, model);
      // Persistence: the previous version still holds what it held.
      checkMatches(before, snapshots.get(snapshots.size() - 1), keys);
      versions.add(h);
      snapshots.add(copyOf(model));
    }

    for (int i = 0; i < versions.size(); i++) {
      checkMatches(versions.get(i), snapshots.get(i), keys);
    }
  }

  @Property
  void insertAllThenRemoveInRandomOrder_matchesModelDownToEmpty(
      @ForAll("universes") List<Integer> universe, @ForAll Random random) {
    List<Key> keys = keysOf(universe);
    List<Key> order = new ArrayList<>(keys);
    Collections.shuffle(order, random);
    Hamt<Key, String> h = Hamt.empty();
    Map<Key, String> model = new HashMap<>();
    for (Key key : order) {
      String value = key.id() % 4 == 0 ? null : "v" + key.id();
      h = h.with(key, value);
      model.put(key, value);
      assertThat(h.size()).isEqualTo(model.size());
    }
    Hamt<Key, String> full = h;
    checkMatches(full, model, keys);
    checkEqualToRebuilt(full, model);

    Map<Key, String> fullModel = copyOf(model);
    Collections.shuffle(order, random);
    for (Key key : order) {
      h = h.without(key);
      model.remove(key);
      checkMatches(h, model, keys);
      checkEqualToRebuilt(h, model);
    }
    assertThat(h).isEqualTo(Hamt.empty());
    assertThat(h.dump()).isEqualTo("empty");
    checkMatches(full, fullModel, keys);
  }

  /* ---- checks ---- */

  private static List<Key> keysOf(List<Integer> universe) {
    List<Key> keys = new ArrayList<>();
    for (int i = 0; i < universe.size(); i++) {
      keys.add(new Key(i, universe.get(i)));
    }
    return keys;
  }

  private static Map<Key, String> copyOf(Map<Key, String> model) {
    return new HashMap<>(model); // Map.copyOf rejects null values
  }

  private static final String FALLBACK = "<fallback>";

  /** size, get/getOrDefault/containsKey for every key of the universe, and iteration. */
  private static void checkMatches(Hamt<Key, String> h, Map<Key, String> model, List<Key> keys) {
    assertThat(h.size()).as("size").isEqualTo(model.size());
    assertThat(h.isEmpty()).isEqualTo(model.isEmpty());
    for (Key key : keys) {
      // A distinct but equal key object, so that lookups go through equals.
      Key probe = new Key(key.id(), key.hash());
      assertThat(h.containsKey(probe)).as("containsKey(%s)", key).isEqualTo(model.containsKey(key));
      assertThat(h.get(probe)).as("get(%s)", key).isSameAs(model.get(key));
      assertThat(h.getOrDefault(probe, FALLBACK))
          .as("getOrDefault(%s)", key)
          .isSameAs(model.getOrDefault(key, FALLBACK));
    }
    Map<Key, String> iterated = new HashMap<>();
    for (Map.Entry<Key, String> e : h) {
      assertThat(iterated.containsKey(e.getKey())).as("%s iterated twice", e.getKey()).isFalse();
      iterated.put(e.getKey(), e.getValue());
    }
    assertThat(iterated).as("iteration").isEqualTo(model);
  }

  /** equals and hashCode against the same entries inserted in another order, and the model's. */
  private static void checkEqualToRebuilt(Hamt<Key, String> h, Map<Key, String> model) {
    List<Map.Entry<Key, String>> entries = new ArrayList<>(model.entrySet());
    entries.sort(Comparator.comparingInt((Map.Entry<Key, String> e) -> e.getKey().id()).reversed());
    Hamt<Key, String> rebuilt = Hamt.empty();
    for (Map.Entry<Key, String> e : entries) {
      rebuilt = rebuilt.with(e.getKey(), e.getValue());
    }
    assertThat(h).as("equals a map built in another order").isEqualTo(rebuilt);
    assertThat(rebuilt).isEqualTo(h);
    assertThat(h.hashCode())
        .as("hashCode")
        .isEqualTo(rebuilt.hashCode())
        .isEqualTo(model.hashCode());
    assertThat(h.asMap()).isEqualTo(model);
    assertThat(model).isEqualTo(h.asMap());
    if (!model.isEmpty()) {
      Key any = entries.get(0).getKey();
      Hamt<Key, String> other = h.with(any, model.get(any) == null ? "x" : null);
      assertThat(h).as("differs in one value").isNotEqualTo(other);
      assertThat(h).as("differs in one key").isNotEqualTo(h.without(any));
    }
  }
}
