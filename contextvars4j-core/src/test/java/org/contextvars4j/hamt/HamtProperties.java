package org.contextvars4j.hamt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.quicktheories.QuickTheory;
import org.quicktheories.core.Configuration;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Model-based properties of {@link Hamt}: random sequences of {@code with}/{@code without}/{@code
 * get} against a {@link HashMap}, with keys whose hash codes are drawn so that full 32-bit
 * collisions and partial ones (hashes agreeing on their low 5, 10, ..., 30 bits) are common.
 *
 * <p>Each property is a plain JUnit test that runs at least {@value #EXAMPLES} examples through
 * QuickTheories, prints nothing when they pass, and else fails with an {@link AssertionError} that
 * shows the shrunk falsifying values (the universe of hashes in hex, then the operations or the
 * shuffle seed), the assertion that broke, and a last line {@code Seed was N}. To reproduce a
 * failure, re-run that test with the seed as a system property (Surefire hands it on to the test
 * JVM); the same seed gives the same examples and the same shrinking:
 *
 * <pre>{@code
 * mvn -pl contextvars4j-core test -Dtest='HamtProperties#randomOps_*' -DQT_SEED=N
 * }</pre>
 *
 * <p>or pin it in the code while debugging: {@code theory().withFixedSeed(N)}. {@code
 * -DQT_EXAMPLES=...} sets the number of tries, {@code -DQT_SHRINKS=...} the shrink steps.
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

  /** Examples each property runs at least. */
  static final int EXAMPLES = 1000;

  /**
   * Shrink steps after a failure. QuickTheories' default (100 per example) would re-run a
   * 250-operation example up to 100,000 times; this many bring a planted bug down to the two or
   * three operations that matter (between gets, which it cannot cut) in about ten seconds.
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

  /* ---- generators ----
   *
   * QuickTheories shrinks the sequence of random draws behind an example, not the example itself.
   * So each composite value below draws every one of its parts every time, used or not: shrinking
   * one choice (which kind of hash, which operation) then never shifts the draws of the values
   * that follow it.
   */

  private static final Gen<Integer> EDGE_INTS =
      Generate.pick(
          List.of(
              0,
              1,
              -1,
              2,
              -2,
              Integer.MIN_VALUE,
              Integer.MIN_VALUE + 1,
              Integer.MAX_VALUE,
              Integer.MAX_VALUE - 1));

  /**
   * Any int, with small and extreme ones common: half uniform 32-bit values, 40% small ones (of 0
   * to 31 bits, so logarithmically spread), 10% the usual edge values. Shrinks towards 0.
   */
  private static Gen<Integer> anyInt() {
    Gen<Integer> roll = Generate.range(1, 10);
    Gen<Integer> uniform = integers().all();
    Gen<Integer> bits = Generate.range(0, 31);
    return in -> {
      int r = roll.generate(in);
      int random = uniform.generate(in);
      int width = bits.generate(in);
      int edge = EDGE_INTS.generate(in);
      return r <= 5 ? random : r <= 9 ? random >> (31 - width) : edge;
    };
  }

  private static final Gen<Integer> POOL =
      Generate.pick(
          List.of(
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
              0x42108421));

  private static final Gen<Integer> FEW_BITS_MASKS =
      Generate.pick(
          List.of(
              0x0,
              0x3,
              0x21,
              0x421,
              0x8421,
              0xC0000000,
              0xC0000001,
              0x42108421,
              0x8000001F,
              0xFFFFFFFF));

  private static final Gen<Integer> SAME_LOW_BITS = Generate.pick(List.of(5, 10, 15, 20, 25, 30));

  /**
   * Hashes that make collisions likely: full ones and ones in the low 5..30 bits. Weighted 4 : 4 :
   * 3 : 1, a hash from a pool of interesting ones; any int with all but a few bits masked off; any
   * int shifted above 5, 10, ..., 30 low bits that all such hashes share; any int.
   */
  private static Gen<Integer> hashes() {
    Gen<Integer> roll = Generate.range(1, 12);
    Gen<Integer> random = anyInt();
    return in -> {
      int r = roll.generate(in);
      int pooled = POOL.generate(in);
      int any = random.generate(in);
      int mask = FEW_BITS_MASKS.generate(in);
      int bits = SAME_LOW_BITS.generate(in);
      if (r <= 4) {
        return pooled;
      } else if (r <= 8) {
        return any & mask;
      } else if (r <= 11) {
        return 0x1234_5678 & ((1 << bits) - 1) | (any << bits);
      } else {
        return any;
      }
    };
  }

  /**
   * 1 to {@value #MAX_KEYS} hashes, sizes uniformly spread; shown in hex. Always draws {@value
   * #MAX_KEYS} hashes and keeps a prefix, so that a shrinking size leaves the operations' draws in
   * place.
   */
  static Gen<List<Integer>> universes() {
    Gen<Integer> size = Generate.range(1, MAX_KEYS);
    Gen<List<Integer>> all = lists().of(hashes()).ofSize(MAX_KEYS);
    return size.zip(all, (n, hashes) -> List.copyOf(hashes.subList(0, n)))
        .describedAs(
            universe ->
                universe.stream()
                    .map(hash -> "0x" + Integer.toHexString(hash))
                    .collect(Collectors.joining(", ", "[", "]")));
  }

  /**
   * Up to 250 operations, sizes uniformly spread: 60% with, 30% without, 10% get. A with's value
   * is null one time in five, else "a", "b" or "c", and in a third of cases a fresh copy. An
   * operation shrinks towards a get, which changes nothing.
   */
  static Gen<List<Op>> ops() {
    Gen<Integer> roll = Generate.range(1, 10);
    Gen<Integer> key = Generate.range(0, MAX_KEYS - 1);
    Gen<Integer> nullRoll = Generate.range(1, 5);
    Gen<String> pooled = Generate.pick(List.of("a", "b", "c"));
    Gen<Boolean> fresh = Generate.pick(List.of(false, false, true));
    Gen<Op> op =
        in -> {
          int r = roll.generate(in);
          int k = key.generate(in);
          boolean isNull = nullRoll.generate(in) == 1;
          String value = pooled.generate(in);
          boolean f = fresh.generate(in);
          if (r == 1) {
            return new Get(k);
          } else if (r <= 4) {
            return new Without(k);
          } else {
            return new With(k, isNull ? null : value, f);
          }
        };
    return lists().of(op).ofSizeBetween(0, 250).describedAs(HamtProperties::describe);
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

  /* ---- properties ---- */

  @Test
  void randomOps_matchHashMapModelInEveryVersion() {
    theory()
        .forAll(universes(), ops())
        .checkAssert(HamtProperties::randomOpsMatchHashMapModelInEveryVersion);
  }

  private static void randomOpsMatchHashMapModelInEveryVersion(
      List<Integer> universe, List<Op> ops) {
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

  @Test
  void insertAllThenRemoveInRandomOrder_matchesModelDownToEmpty() {
    theory()
        .forAll(universes(), longs().all())
        .checkAssert(HamtProperties::insertAllThenRemoveInRandomOrderMatchesModelDownToEmpty);
  }

  /** {@code shuffleSeed} seeds the {@link Random} behind both shuffles. */
  private static void insertAllThenRemoveInRandomOrderMatchesModelDownToEmpty(
      List<Integer> universe, long shuffleSeed) {
    Random random = new Random(shuffleSeed);
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
