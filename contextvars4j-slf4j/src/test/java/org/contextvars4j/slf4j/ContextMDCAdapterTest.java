package org.contextvars4j.slf4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.concurrent.ContextExecutors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class ContextMDCAdapterTest {
  private final ContextMDCAdapter mdc = new ContextMDCAdapter();

  @AfterEach
  void leaveTheThreadClean() {
    mdc.clear();
  }

  @Nested
  class TheMap {
    @Test
    void putGetRemove() {
      assertThat(mdc.get("k")).isNull();
      mdc.put("k", "v");
      assertThat(mdc.get("k")).isEqualTo("v");
      mdc.put("k", "w");
      assertThat(mdc.get("k")).isEqualTo("w");
      mdc.remove("k");
      assertThat(mdc.get("k")).isNull();
      assertThat(mdc.getCopyOfContextMap()).isNull();
    }

    @Test
    void aNullValueIsKeptAsLogbackKeepsIt() {
      mdc.put("k", null);
      assertThat(mdc.getCopyOfContextMap()).containsExactly(entry("k", null));
      assertThat(mdc.get("k")).isNull();
    }

    @Test
    void theCopyIsMutableAndIndependentBothWays() {
      mdc.put("a", "1");
      Map<String, String> copy = mdc.getCopyOfContextMap();
      copy.put("b", "2");
      assertThat(mdc.get("b")).isNull();
      mdc.put("a", "changed");
      assertThat(copy).containsOnly(entry("a", "1"), entry("b", "2"));
      assertThat(mdc.getCopyOfContextMap()).containsOnly(entry("a", "changed"));
    }

    @Test
    void theReadOnlyViewIsASnapshotAndRefusesChanges() {
      mdc.put("a", "1");
      Map<String, String> view = mdc.getReadOnlyContextMap();
      mdc.put("a", "2");
      assertThat(view).containsOnly(entry("a", "1"));
      assertThatThrownBy(() -> view.put("b", "x")).isInstanceOf(UnsupportedOperationException.class);
      assertThat(new ContextMDCAdapter().getReadOnlyContextMap()).isEmpty();
    }

    @Test
    void setContextMapReplacesTheMapAndNullEmptiesIt() {
      mdc.put("old", "x");
      Map<String, String> replacement = new HashMap<>();
      replacement.put("a", "1");
      replacement.put("n", null);
      mdc.setContextMap(replacement);
      replacement.put("later", "y");
      assertThat(mdc.getCopyOfContextMap()).containsOnly(entry("a", "1"), entry("n", null));
      mdc.setContextMap(null);
      assertThat(mdc.getCopyOfContextMap()).isNull();
    }

    @Test
    void keysAreASnapshotOrNull() {
      assertThat(mdc.getKeys()).isNull();
      mdc.put("a", "1");
      mdc.put("b", "2");
      assertThat(mdc.getKeys()).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void clearEmptiesTheMapButNotTheDeques() {
      mdc.put("a", "1");
      mdc.pushByKey("d", "x");
      mdc.clear();
      assertThat(mdc.getCopyOfContextMap()).isNull();
      assertThat(mdc.popByKey("d")).isEqualTo("x");
    }

    @Test
    void twoAdaptersNeverShareState() {
      ContextMDCAdapter other = new ContextMDCAdapter();
      mdc.put("a", "1");
      assertThat(other.get("a")).isNull();
    }
  }

  @Nested
  class Deques {
    @Test
    void pushAndPopAreLastInFirstOut() {
      mdc.pushByKey("d", "1");
      mdc.pushByKey("d", "2");
      assertThat(mdc.getCopyOfDequeByKey("d")).containsExactly("2", "1");
      assertThat(mdc.popByKey("d")).isEqualTo("2");
      assertThat(mdc.popByKey("d")).isEqualTo("1");
      assertThat(mdc.popByKey("d")).isNull();
      assertThat(mdc.getCopyOfDequeByKey("d")).isNull();
    }

    @Test
    void theDequeCopyIsIndependent() {
      mdc.pushByKey("d", "1");
      var copy = mdc.getCopyOfDequeByKey("d");
      copy.push("mine");
      assertThat(mdc.getCopyOfDequeByKey("d")).containsExactly("1");
    }

    @Test
    void clearDequeByKeyRemovesOnlyThatDeque() {
      mdc.pushByKey("d", "1");
      mdc.pushByKey("e", "2");
      mdc.clearDequeByKey("d");
      mdc.clearDequeByKey("absent");
      assertThat(mdc.getCopyOfDequeByKey("d")).isNull();
      assertThat(mdc.getCopyOfDequeByKey("e")).containsExactly("2");
      mdc.clearDequeByKey("e");
    }

    @Test
    void aDequeFollowsTheContextLikeTheMap() {
      mdc.pushByKey("d", "outer");
      new Context().run(() -> assertThat(mdc.popByKey("d")).isNull());
      Context.copyCurrent().run(() -> {
        mdc.pushByKey("d", "inner");
        assertThat(mdc.getCopyOfDequeByKey("d")).containsExactly("inner", "outer");
      });
      assertThat(mdc.popByKey("d")).isEqualTo("outer");
    }
  }

  @Nested
  class BadInput {
    @Test
    void writesRefuseANullKeyAndChangeNothing() {
      mdc.put("a", "1");
      mdc.pushByKey("d", "x");
      assertThatThrownBy(() -> mdc.put(null, "v"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("key");
      assertThatThrownBy(() -> mdc.pushByKey(null, "v"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("key");
      assertThatThrownBy(() -> mdc.pushByKey("d", null))
          .isInstanceOf(NullPointerException.class)
          .hasMessageContaining("value");
      assertThat(mdc.getCopyOfContextMap()).containsOnly(entry("a", "1"));
      assertThat(mdc.getCopyOfDequeByKey("d")).containsExactly("x");
      mdc.clearDequeByKey("d");
    }

    @Test
    void readsOfANullKeyFindNothingAsSlf4jAdaptersDo() {
      mdc.put("a", "1");
      assertThat(mdc.get(null)).isNull();
      mdc.remove(null);
      assertThat(mdc.popByKey(null)).isNull();
      assertThat(mdc.getCopyOfDequeByKey(null)).isNull();
      mdc.clearDequeByKey(null);
      assertThat(mdc.getCopyOfContextMap()).containsOnly(entry("a", "1"));
    }

    @Test
    void setContextMapWithANullKeyChangesNothing() {
      mdc.put("a", "1");
      Map<String, String> bad = new HashMap<>();
      bad.put("b", "2");
      bad.put(null, "3");
      assertThatThrownBy(() -> mdc.setContextMap(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("null key");
      assertThat(mdc.getCopyOfContextMap()).containsOnly(entry("a", "1"));
    }
  }

  @Nested
  class FollowsTheContext {
    private final ContextVar<String> user = ContextVar.named("user");

    @Test
    void anEmptyContextHasAnEmptyMdc() {
      mdc.put("a", "1");
      new Context().run(() -> assertThat(mdc.getCopyOfContextMap()).isNull());
      assertThat(mdc.get("a")).isEqualTo("1");
    }

    @Test
    void oneCopyCarriesTheMdcAndTheVariablesTogether() {
      mdc.put("request_id", "r1");
      Context snapshot;
      try (var token = user.set("alice")) {
        snapshot = Context.copyCurrent();
      }
      mdc.put("request_id", "r2");
      snapshot.run(() -> {
        assertThat(mdc.get("request_id")).isEqualTo("r1");
        assertThat(user.get()).isEqualTo("alice");
      });
    }

    @Test
    void aTaskSetsNothingForItsSubmitterNorForTheNextTask() throws Exception {
      ExecutorService pool = ContextExecutors.wrap(Executors.newSingleThreadExecutor());
      try {
        mdc.put("request_id", "submitter");
        pool.submit(() -> {
              assertThat(mdc.get("request_id")).isEqualTo("submitter");
              mdc.put("request_id", "task");
              mdc.put("leak", "x");
            })
            .get(10, TimeUnit.SECONDS);
        assertThat(mdc.get("request_id")).isEqualTo("submitter");
        assertThat(mdc.get("leak")).isNull();
        mdc.clear();
        assertThat(pool.submit(() -> mdc.getCopyOfContextMap()).get(10, TimeUnit.SECONDS)).isNull();
      } finally {
        pool.shutdownNow();
      }
    }

    @Test
    void concurrentRequestsOnASmallPoolEachSeeOnlyTheirOwnMdc() throws Exception {
      long seed = System.nanoTime();
      Random random = new Random(seed);
      ExecutorService pool = ContextExecutors.wrap(Executors.newFixedThreadPool(4));
      try {
        List<Future<Boolean>> results = new ArrayList<>();
        for (int request = 0; request < 2_000; request++) {
          String id = "r" + request;
          int extra = random.nextInt(5);
          Context.copyCurrent().run(() -> {
            mdc.put("request_id", id);
            for (int i = 0; i < extra; i++) {
              mdc.put("k" + i, id);
            }
            results.add(pool.submit(() -> {
              boolean right = id.equals(mdc.get("request_id"));
              mdc.put("request_id", "changed by " + id);
              for (int i = 0; i < 5; i++) {
                right &= Objects.equals(i < extra ? id : null, mdc.get("k" + i));
              }
              return right;
            }));
          });
        }
        for (Future<Boolean> result : results) {
          assertThat(result.get(30, TimeUnit.SECONDS)).as("seed %d", seed).isTrue();
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
