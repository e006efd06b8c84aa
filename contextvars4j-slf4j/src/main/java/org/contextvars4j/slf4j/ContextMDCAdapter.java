package org.contextvars4j.slf4j;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.hamt.Hamt;
import org.contextvars4j.internal.ContextAccess;
import org.jspecify.annotations.Nullable;
import org.slf4j.spi.MDCAdapter;

/**
 * An SLF4J {@link MDCAdapter} whose whole state lives in the current {@link Context}: the MDC map
 * and the per-key deques of {@link #pushByKey}/{@link #popByKey} are immutable values held in two
 * {@link ContextVar}s. So the MDC is captured, with every other variable, by one {@link
 * Context#copyCurrent()} in constant time; it follows work wherever contextvars4j carries the
 * context ({@code org.contextvars4j.concurrent}'s executors, futures and threads); what a task puts
 * in it never reaches the code that submitted the task, nor the next task on that pooled thread;
 * and {@code new Context().run(...)} sees an empty MDC.
 *
 * <p>A backend installs the adapter; {@code contextvars4j-logback} does it for Logback. Each
 * instance has its own variables: the MDC of one instance is invisible to another.
 *
 * <h2>Differences from SLF4J's own adapters</h2>
 *
 * <ul>
 *   <li><b>A new thread starts with an empty MDC</b>, as PEP 567 starts it in an empty context.
 *       SLF4J's {@code BasicMDCAdapter} lets a child thread inherit its parent's map; here a thread
 *       gets the starter's MDC when it is started through {@code ContextThreads} (or under the
 *       contextvars4j agent), and only then.
 *   <li>{@link #getCopyOfContextMap()} returns a mutable copy, as SLF4J specifies, but copies
 *       nothing until the copy is first changed: a log event that only reads its copy costs one
 *       small object, whatever the number of entries.
 *   <li>A deque that becomes empty is forgotten: {@link #getCopyOfDequeByKey} then returns {@code
 *       null}, and {@link #popByKey} returns {@code null} for it (where SLF4J's own deques would
 *       throw).
 * </ul>
 *
 * <h2>Null keys and values</h2>
 *
 * A method that changes the MDC throws {@link IllegalArgumentException} for a {@code null} key, as
 * SLF4J's {@code MDC} facade does, and leaves the MDC unchanged; methods that only read return
 * {@code null} (or do nothing) for it, as SLF4J's adapters do. Map values may be {@code null}, as
 * in Logback's adapter; deques hold no {@code null}.
 *
 * <h2>Thread safety</h2>
 *
 * Thread-safe: every method reads or sets the calling thread's current context, and the values it
 * stores are immutable, so threads never see each other's MDC except through a {@link Context}
 * handed over on purpose.
 *
 * @implNote {@link #put}, {@link #remove} and {@link #pushByKey} are one {@link ContextVar#set}
 *     each of a new immutable map: up to 16 entries a copy of one flat array of (key, value)
 *     pairs, above that a persistent trie that shares all but {@code O(log32 n)} nodes with the
 *     old one. {@link #get} is a variable read and a scan of that array (or a trie lookup),
 *     allocation-free.
 */
public final class ContextMDCAdapter implements MDCAdapter {
  // Every change replaces the map and drops the token: a set without one, which a run of changes
  // makes in one slot of the context (ContextAccess.bind). Null where the core's module does not
  // export its internal package to this class's module (this jar on the class path, the core a
  // named module): then a plain set, which the public API allows everywhere.
  private static final @Nullable ContextAccess ACCESS =
      ContextVar.class.getModule().isExported(
              "org.contextvars4j.internal", ContextMDCAdapter.class.getModule())
          ? ContextAccess.get()
          : null;

  private final ContextVar<MdcMap> map = ContextVar.named("slf4j.mdc", MdcMap.EMPTY);
  private final ContextVar<Hamt<String, KeyStack>> deques =
      ContextVar.named("slf4j.mdc.deques", Hamt.empty());

  /** Creates an adapter whose MDC is empty in every context. */
  public ContextMDCAdapter() {}

  /**
   * Puts {@code value} under {@code key} in the current context's MDC.
   *
   * @param key the key; not {@code null}
   * @param value the value; may be {@code null}
   * @throws IllegalArgumentException if {@code key} is {@code null}; the MDC is then unchanged
   */
  @Override
  public void put(String key, @Nullable String value) {
    requireKey(key);
    MdcMap current = map.get();
    MdcMap changed = current.with(key, value);
    if (changed != current) {
      bind(map, changed);
    }
  }

  /**
   * {@return the value under {@code key} in the current context's MDC, or {@code null}} A {@code
   * null} key has no value.
   *
   * @param key the key
   */
  @Override
  public @Nullable String get(@Nullable String key) {
    return key == null ? null : map.get().get(key);
  }

  /**
   * Removes {@code key} from the current context's MDC. A {@code null} or absent key changes
   * nothing.
   *
   * @param key the key
   */
  @Override
  public void remove(@Nullable String key) {
    if (key == null) {
      return;
    }
    MdcMap current = map.get();
    MdcMap changed = current.without(key);
    if (changed != current) {
      bind(map, changed);
    }
  }

  /** Empties the current context's MDC map; the deques of {@link #pushByKey} stay. */
  @Override
  public void clear() {
    if (!map.get().isEmpty()) {
      bind(map, MdcMap.EMPTY);
    }
  }

  /**
   * Returns a mutable copy of the current context's MDC map, or {@code null} when it is empty, as
   * SLF4J specifies. Changing the copy never changes the MDC, nor the MDC the copy.
   *
   * @return a new mutable map, or {@code null}
   * @implNote The copy shares the MDC's immutable map until it is first changed; only then does it
   *     copy the entries into a {@link java.util.HashMap} of its own.
   */
  @Override
  public @Nullable Map<String, @Nullable String> getCopyOfContextMap() {
    MdcMap current = map.get();
    return current.isEmpty() ? null : new LazyCopy(current);
  }

  /**
   * {@return a read-only view of the current context's MDC map, never {@code null}} The view is a
   * snapshot: later changes to the MDC do not show in it. It is what a backend should take for a
   * log event when it can use an unmodifiable map: constant time, whatever the number of entries.
   */
  public Map<String, @Nullable String> getReadOnlyContextMap() {
    return map.get();
  }

  /**
   * Replaces the current context's MDC map with a copy of {@code contextMap}; {@code null} empties
   * it.
   *
   * @param contextMap the entries of the new MDC; its values may be {@code null}
   * @throws IllegalArgumentException if {@code contextMap} has a {@code null} key; the MDC is then
   *     unchanged
   */
  @Override
  public void setContextMap(@Nullable Map<String, @Nullable String> contextMap) {
    bind(map, contextMap == null ? MdcMap.EMPTY : MdcMap.of(contextMap));
  }

  /**
   * {@return the keys of the current context's MDC map, or {@code null} when it is empty} The set
   * is a read-only snapshot.
   */
  public @Nullable Set<String> getKeys() {
    MdcMap current = map.get();
    return current.isEmpty() ? null : current.keySet();
  }

  /**
   * Pushes {@code value} on the deque under {@code key} in the current context.
   *
   * @param key the deque's key; not {@code null}
   * @param value the value; not {@code null}
   * @throws IllegalArgumentException if {@code key} is {@code null}; the deques are then unchanged
   * @throws NullPointerException if {@code value} is {@code null}; the deques are then unchanged
   */
  @Override
  public void pushByKey(String key, String value) {
    requireKey(key);
    Objects.requireNonNull(value, "value: an MDC deque holds no null");
    Hamt<String, KeyStack> current = deques.get();
    bind(deques, current.with(key, KeyStack.push(current.get(key), value)));
  }

  /**
   * Pops the deque under {@code key} in the current context.
   *
   * @param key the deque's key
   * @return the value on top of the deque, or {@code null} when there is no such deque or it is
   *     empty (or {@code key} is {@code null})
   */
  @Override
  public @Nullable String popByKey(@Nullable String key) {
    if (key == null) {
      return null;
    }
    Hamt<String, KeyStack> current = deques.get();
    KeyStack stack = current.get(key);
    if (stack == null) {
      return null;
    }
    KeyStack rest = stack.below();
    bind(deques, rest == null ? current.without(key) : current.with(key, rest));
    return stack.top();
  }

  /**
   * Returns a copy of the deque under {@code key} in the current context, top first.
   *
   * @param key the deque's key
   * @return a new mutable deque, or {@code null} when there is no such deque (or {@code key} is
   *     {@code null})
   */
  @Override
  public @Nullable Deque<String> getCopyOfDequeByKey(@Nullable String key) {
    if (key == null) {
      return null;
    }
    KeyStack stack = deques.get().get(key);
    if (stack == null) {
      return null;
    }
    Deque<String> copy = new ArrayDeque<>(stack.depth());
    for (KeyStack at = stack; at != null; at = at.below()) {
      copy.addLast(at.top());
    }
    return copy;
  }

  /**
   * Removes the deque under {@code key} in the current context. A {@code null} or absent key
   * changes nothing.
   *
   * @param key the deque's key
   */
  @Override
  public void clearDequeByKey(@Nullable String key) {
    if (key == null) {
      return;
    }
    Hamt<String, KeyStack> current = deques.get();
    Hamt<String, KeyStack> changed = current.without(key);
    if (changed != current) {
      bind(deques, changed);
    }
  }

  /** {@return a description of this adapter, with the current context's MDC map} */
  @Override
  public String toString() {
    return "ContextMDCAdapter" + map.get();
  }

  /** Sets {@code var} to {@code value}, dropping the token, the fastest way this module may. */
  private static <T> void bind(ContextVar<T> var, T value) {
    ContextAccess access = ACCESS;
    if (access != null) {
      access.bind(var, value);
    } else {
      var.set(value);
    }
  }

  private static void requireKey(@Nullable String key) {
    if (key == null) {
      throw new IllegalArgumentException("key cannot be null: MDC keys are never null");
    }
  }
}
