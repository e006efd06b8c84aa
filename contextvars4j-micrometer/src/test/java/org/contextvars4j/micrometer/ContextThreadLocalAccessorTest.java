package org.contextvars4j.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ContextSnapshot;
import io.micrometer.context.ContextSnapshotFactory;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.junit.jupiter.api.Test;

/** The accessor through context-propagation's own registry and snapshots, no Reactor. */
class ContextThreadLocalAccessorTest {
  private static final ContextVar<String> REQUEST = ContextVar.named("request");
  private static final ContextVar<String> USER = ContextVar.named("user");

  @Test
  void theRegistryFindsTheAccessorWithNothingConfigured() {
    assertThat(ContextRegistry.getInstance().getThreadLocalAccessors())
        .anySatisfy(
            accessor -> {
              assertThat(accessor).isInstanceOf(ContextThreadLocalAccessor.class);
              assertThat(accessor.key()).isEqualTo("org.contextvars4j.Context");
            });
  }

  @Test
  void aSnapshotCarriesEveryVariableToAnotherThread_andNothingLeaksBack() throws Exception {
    ContextSnapshotFactory factory = ContextSnapshotFactory.builder().build();
    ContextSnapshot snapshot =
        new Context()
            .call(
                () -> {
                  REQUEST.set("r1");
                  USER.set("alice");
                  return factory.captureAll();
                });
    CompletableFuture<List<String>> seen = new CompletableFuture<>();
    Thread.ofPlatform()
        .start(
            () -> {
              try (ContextSnapshot.Scope ignored = snapshot.setThreadLocals()) {
                String inside = REQUEST.get() + "/" + USER.get();
                REQUEST.set("changed inside");
                seen.complete(List.of(inside, String.valueOf(REQUEST.isBound())));
              } catch (Throwable e) {
                seen.completeExceptionally(e);
              }
            });
    assertThat(seen.get(10, TimeUnit.SECONDS)).containsExactly("r1/alice", "true");
    // The snapshot is unchanged: the thread ran in a copy of it.
    Runnable check = () -> assertThat(REQUEST.get()).isEqualTo("r1");
    snapshot.wrap(check).run();
  }

  @Test
  void restoreReturnsToExactlyTheContextBefore_whateverWasSetInBetween() {
    ContextThreadLocalAccessor accessor = new ContextThreadLocalAccessor();
    new Context()
        .run(
            () -> {
              REQUEST.set("outer");
              Context before = accessor.getValue();
              Context other = new Context().call(() -> {
                REQUEST.set("other");
                return Context.copyCurrent();
              });
              accessor.setValue(other);
              assertThat(REQUEST.get()).isEqualTo("other");
              REQUEST.set("set while restored");
              accessor.setValue();
              assertThat(REQUEST.isBound()).as("setValue() clears").isFalse();
              accessor.restore();
              assertThat(REQUEST.get()).isEqualTo("set while restored");
              accessor.restore(before);
              assertThat(REQUEST.get()).isEqualTo("outer");
              assertThat(other.get(REQUEST)).as("the given context is untouched").isEqualTo("other");
            });
  }

  @Test
  void badCallsAreRefusedWithAClearMessage() {
    ContextThreadLocalAccessor accessor = new ContextThreadLocalAccessor();
    assertThatThrownBy(() -> accessor.setValue(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("value");
    assertThatThrownBy(accessor::restore)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("No context entered by ContextThreadLocalAccessor.setValue");
  }

  @Test
  void aVariablesAccessor_refusesBadInput_andUndoesOnlyItsOwnSets() {
    assertThatThrownBy(() -> ContextVarAccessor.of(null, REQUEST))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("key");
    assertThatThrownBy(() -> ContextVarAccessor.of("k", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("var");
    assertThatThrownBy(() -> ContextVarAccessor.of(ContextThreadLocalAccessor.KEY, REQUEST))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("give the variable a key of its own");
    ContextVarAccessor<String> accessor = ContextVarAccessor.of("request", REQUEST);
    assertThatThrownBy(accessor::restore)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("No setValue of the accessor of");
    new Context()
        .run(
            () -> {
              assertThat(accessor.getValue()).isNull();
              REQUEST.set("outer");
              accessor.setValue("inner");
              assertThat(REQUEST.get()).isEqualTo("inner");
              accessor.setValue();
              assertThat(REQUEST.get()).as("setValue() leaves it").isEqualTo("inner");
              accessor.restore();
              accessor.restore("outer");
              assertThat(REQUEST.get()).isEqualTo("outer");
            });
  }
}
