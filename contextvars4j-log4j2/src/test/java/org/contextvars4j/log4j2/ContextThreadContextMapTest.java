package org.contextvars4j.log4j2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.logging.log4j.util.StringMap;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.concurrent.ContextExecutors;
import org.contextvars4j.concurrent.ContextThreads;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ContextThreadContextMap} on its own (no Log4j facade): Log4j's map contract, null
 * handling, failures that change nothing, and how the map follows the {@link Context}. Each test
 * has a map of its own, so that nothing it puts is seen by another test.
 */
final class ContextThreadContextMapTest {

  private static final long TIMEOUT_SECONDS = 30;

  private final ContextThreadContextMap map = new ContextThreadContextMap();

  static Stream<Named<Thread.Builder>> threadKinds() {
    return Stream.of(
        Named.of("platform", Thread.ofPlatform().daemon()), Named.of("virtual", Thread.ofVirtual()));
  }

  /** Runs {@code task} on a new, plain thread of {@code kind} and returns what it returns. */
  private static <T> T onNewThread(Thread.Builder kind, java.util.concurrent.Callable<T> task)
      throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    kind.start(
        () -> {
          try {
            result.complete(task.call());
          } catch (Throwable t) {
            result.completeExceptionally(t);
          }
        });
    return result.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /* ---- put / get / remove / clear ---- */

  @Test
  void put_thenGet_returnsTheValue_andContainsKey() {
    map.put("a", "1");
    map.put("b", "2");
    map.put("a", "3");

    assertThat(map.get("a")).isEqualTo("3");
    assertThat(map.get("b")).isEqualTo("2");
    assertThat(map.get("absent")).isNull();
    assertThat(map.containsKey("a")).isTrue();
    assertThat(map.containsKey("absent")).isFalse();
    assertThat(map.isEmpty()).isFalse();
    assertThat(map.getCopy()).containsOnly(entry("a", "3"), entry("b", "2"));
    assertThat(map.toString()).isEqualTo("{a=3, b=2}");
  }

  @Test
  void put_nullValue_bindsTheKeyToNull_asLog4jDoes() {
    map.put("a", null);

    assertThat(map.containsKey("a")).isTrue();
    assertThat(map.get("a")).isNull();
    assertThat(map.isEmpty()).isFalse();
    assertThat(map.getCopy()).containsExactly(entry("a", null));
    assertThat(map.getImmutableMapOrNull()).containsExactly(entry("a", null));
    assertThat(map.getReadOnlyContextData().containsKey("a")).isTrue();
  }

  @Test
  void put_nullKey_throwsNpe_andTheContextIsUnchanged() {
    map.put("a", "1");
    StringMap before = map.getReadOnlyContextData();

    assertThatThrownBy(() -> map.put(null, "x"))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("ThreadContext key may not be null");
    assertThatThrownBy(() -> map.putValue(null, 1)).isInstanceOf(NullPointerException.class);

    assertThat(map.getReadOnlyContextData()).as("not even a new equal value").isSameAs(before);
  }

  @Test
  void readsAndRemoves_withNullKey_treatItAsAbsent() {
    assertThat(map.get(null)).isNull();
    assertThat(map.containsKey(null)).isFalse();
    map.remove(null);
    map.put("a", "1");
    StringMap before = map.getReadOnlyContextData();

    assertThat(map.get(null)).as("also when the map is not empty").isNull();
    assertThat(map.<Object>getValue(null)).isNull();
    assertThat(map.containsKey(null)).isFalse();
    map.remove(null);
    map.removeAll(Arrays.asList(null, "absent"));
    assertThat(map.getReadOnlyContextData()).isSameAs(before);
  }

  @Test
  void changesThatChangeNothing_setNothing() {
    String value = "1";
    map.put("a", value);
    StringMap before = map.getReadOnlyContextData();

    map.put("a", value);
    map.remove("absent");
    map.putAll(Map.of());
    map.removeAll(List.of("absent"));

    assertThat(map.getReadOnlyContextData()).isSameAs(before);
  }

  @Test
  void remove_removesOneKey() {
    map.put("a", "1");
    map.put("b", "2");

    map.remove("a");

    assertThat(map.getCopy()).containsExactly(entry("b", "2"));
  }

  @Test
  void clear_emptiesTheMap_ofTheCurrentContextOnly() {
    map.put("a", "1");
    Context copy = Context.copyCurrent();

    map.clear();

    assertThat(map.isEmpty()).isTrue();
    assertThat(map.getImmutableMapOrNull()).isNull();
    assertThat(copy.call(() -> map.get("a"))).as("a copy taken before keeps it").isEqualTo("1");
  }

  /* ---- putAll / removeAll ---- */

  @Test
  void putAll_putsEveryEntry_nullValuesIncluded() {
    map.put("a", "old");
    Map<String, String> more = new HashMap<>();
    more.put("a", "1");
    more.put("b", null);
    more.put("c", "3");

    map.putAll(more);

    assertThat(map.getCopy()).containsOnly(entry("a", "1"), entry("b", null), entry("c", "3"));
  }

  @Test
  void putAll_withANullKey_throwsNpe_andPutsNothing() {
    map.put("a", "1");
    StringMap before = map.getReadOnlyContextData();
    Map<String, String> bad = new LinkedHashMap<>();
    bad.put("b", "2"); // before the null key: must not be put either
    bad.put(null, "x");
    bad.put("c", "3");

    assertThatThrownBy(() -> map.putAll(bad)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> map.putAllValues(bad)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> map.putAll(null)).isInstanceOf(NullPointerException.class);

    assertThat(map.getReadOnlyContextData()).isSameAs(before);
    assertThat(map.getCopy()).containsExactly(entry("a", "1"));
  }

  @Test
  void removeAll_removesEveryKey_skippingAbsentAndNullKeys() {
    map.putAll(Map.of("a", "1", "b", "2", "c", "3"));

    map.removeAll(Arrays.asList("a", null, "absent", "c"));

    assertThat(map.getCopy()).containsExactly(entry("b", "2"));
    assertThatThrownBy(() -> map.removeAll(null)).isInstanceOf(NullPointerException.class);
  }

  /* ---- copies and views ---- */

  @Test
  void getCopy_isMutable_andIndependentOfTheMap() {
    map.put("a", "1");

    Map<String, String> copy = map.getCopy();
    copy.put("b", "2");
    map.put("c", "3");

    assertThat(copy).containsOnly(entry("a", "1"), entry("b", "2"));
    assertThat(map.getCopy()).containsOnly(entry("a", "1"), entry("c", "3"));
    assertThat(new ContextThreadContextMap().getCopy()).as("empty, not null").isEmpty();
  }

  @Test
  void getImmutableMapOrNull_isNullWhenEmpty_alsoAfterTheLastRemove() {
    assertThat(map.getImmutableMapOrNull()).isNull();
    map.put("a", "1");
    map.remove("a");

    assertThat(map.getImmutableMapOrNull()).isNull();
  }

  @Test
  void getImmutableMapOrNull_isAnUnmodifiableSnapshot_withoutACopyPerCall() {
    map.put("a", "1");

    Map<String, String> snapshot = map.getImmutableMapOrNull();
    assertThat(map.getImmutableMapOrNull()).as("the same view again, not a new copy").isSameAs(snapshot);
    map.put("a", "2");

    assertThat(snapshot).containsExactly(entry("a", "1"));
    assertThat(map.getImmutableMapOrNull()).containsExactly(entry("a", "2"));
    assertThatThrownBy(() -> snapshot.put("b", "2")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(snapshot::clear).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void getReadOnlyContextData_isTheStoredFrozenValue_aSnapshot() {
    map.put("a", "1");

    StringMap data = map.getReadOnlyContextData();
    assertThat(map.getReadOnlyContextData()).as("no allocation: the stored value").isSameAs(data);
    assertThat(data.isFrozen()).isTrue();
    assertThatThrownBy(() -> data.putValue("b", "2")).isInstanceOf(UnsupportedOperationException.class);
    map.put("a", "2");

    assertThat(data.<String>getValue("a")).as("later changes do not reach it").isEqualTo("1");
    assertThat(map.getReadOnlyContextData().<String>getValue("a")).isEqualTo("2");
    assertThat(new ContextThreadContextMap().getReadOnlyContextData().isEmpty()).isTrue();
  }

  /* ---- Object values (ObjectThreadContextMap) ---- */

  @Test
  void putValue_keepsTheObject_andTextViewsShowItsToString() {
    map.putValue("i", 42);
    map.putAllValues(Map.of("d", 1.5));

    assertThat(map.<Integer>getValue("i")).isEqualTo(42);
    assertThat(map.get("i")).isEqualTo("42");
    assertThat(map.getCopy()).containsOnly(entry("i", "42"), entry("d", "1.5"));
    assertThat(map.getImmutableMapOrNull()).containsOnly(entry("i", "42"), entry("d", "1.5"));
    assertThat(map.getReadOnlyContextData().<Object>getValue("d")).isEqualTo(1.5);
    List<Object> seen = new ArrayList<>();
    map.getReadOnlyContextData().forEach((String k, Object v) -> seen.add(v));
    assertThat(seen).containsExactly(1.5, 42);
  }

  /* ---- the map follows the Context ---- */

  @Test
  void putInAContextRun_isNotSeenOutsideIt() {
    map.put("a", "outer");

    new Context()
        .run(
            () -> {
              assertThat(map.isEmpty()).as("new Context() sees an empty map").isTrue();
              map.put("a", "inner");
              map.put("b", "inner");
            });
    Context.copyCurrent()
        .run(
            () -> {
              assertThat(map.get("a")).as("a copy sees the current map").isEqualTo("outer");
              map.put("a", "in the copy");
            });

    assertThat(map.getCopy()).containsExactly(entry("a", "outer"));
  }

  @Test
  void copyCurrent_carriesTheMapAndPlainContextVars_together() {
    ContextVar<String> user = ContextVar.named("user");
    map.put("request_id", "r-1");
    user.set("alice");

    Context snapshot = Context.copyCurrent();
    map.put("request_id", "r-2");
    user.set("bob");

    assertThat(snapshot.call(() -> map.get("request_id") + "/" + user.get())).isEqualTo("r-1/alice");
  }

  @Test
  void aContextRunThatThrows_leavesNothingBehind() {
    map.put("a", "1");

    assertThatThrownBy(
            () ->
                Context.copyCurrent()
                    .run(
                        () -> {
                          map.put("a", "changed");
                          throw new IllegalStateException("boom");
                        }))
        .hasMessage("boom");

    assertThat(map.get("a")).isEqualTo("1");
  }

  @ParameterizedTest
  @MethodSource("threadKinds")
  void aNewThread_startsWithAnEmptyMap(Thread.Builder kind) throws Exception {
    map.put("a", "1");

    assertThat(onNewThread(kind, map::getCopy)).as("PEP 567: a new thread starts empty").isEmpty();
  }

  @ParameterizedTest
  @MethodSource("threadKinds")
  void aThreadStartedThroughContextThreads_getsACopyOfTheStartersMap(Thread.Builder kind)
      throws Exception {
    map.put("a", "1");
    CompletableFuture<String> seen = new CompletableFuture<>();

    ContextThreads.start(
        kind,
        () -> {
          String before = map.get("a");
          map.put("a", "changed by the thread");
          seen.complete(before + " then " + map.get("a"));
        });

    assertThat(seen.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo("1 then changed by the thread");
    assertThat(map.get("a")).as("the thread's put stays in its copy").isEqualTo("1");
  }

  @Test
  void aWrappedPool_givesEachTaskACopy_andNoTaskSeesThePreviousTasksPut() throws Exception {
    ExecutorService pool = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
    try {
      map.put("a", "submitter");
      String first =
          pool.submit(
                  () -> {
                    String seen = map.get("a");
                    map.put("a", "first task");
                    map.put("left", "by the first task");
                    return seen;
                  })
              .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      Map<String, String> second = pool.submit(map::getCopy).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      ExecutorService plain = Executors.newSingleThreadExecutor();
      Map<String, String> unwrapped;
      try {
        unwrapped = plain.submit(map::getCopy).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } finally {
        plain.shutdownNow();
      }

      assertThat(first).isEqualTo("submitter");
      assertThat(second).as("the next task on that thread").containsExactly(entry("a", "submitter"));
      assertThat(map.getCopy()).as("the submitter").containsExactly(entry("a", "submitter"));
      assertThat(unwrapped).as("an unwrapped pool's new thread").isEmpty();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void twoInstances_doNotSeeEachOthersEntries() {
    ContextThreadContextMap other = new ContextThreadContextMap();
    map.put("a", "1");

    assertThat(other.containsKey("a")).isFalse();
    assertThat(other.getImmutableMapOrNull()).isNull();
  }
}
