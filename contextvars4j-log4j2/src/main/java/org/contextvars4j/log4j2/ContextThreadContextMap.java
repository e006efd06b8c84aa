package org.contextvars4j.log4j2;

import java.util.Map;
import java.util.Objects;
import org.apache.logging.log4j.ThreadContext;
import org.apache.logging.log4j.spi.CleanableThreadContextMap;
import org.apache.logging.log4j.spi.CopyOnWrite;
import org.apache.logging.log4j.spi.ObjectThreadContextMap;
import org.apache.logging.log4j.spi.ReadOnlyThreadContextMap;
import org.apache.logging.log4j.spi.ThreadContextMap;
import org.apache.logging.log4j.spi.ThreadContextMap2;
import org.apache.logging.log4j.util.StringMap;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.internal.ContextAccess;
import org.jspecify.annotations.Nullable;

/**
 * A Log4j {@link ThreadContextMap} whose whole state lives in the current {@link Context}: the
 * map is an immutable value held in one {@link ContextVar}. So Log4j's {@link ThreadContext} (its
 * MDC) is captured, with every other variable, by one {@link Context#copyCurrent()} in constant
 * time, and follows the work wherever contextvars4j carries the context: the executors, futures
 * and threads of {@code org.contextvars4j.concurrent}, the agent, Reactor, Spring. What a task puts
 * in the {@code ThreadContext} never reaches the code that submitted it, nor the next task on that
 * pooled thread; and {@code new Context().run(...)} sees an empty {@code ThreadContext}.
 *
 * {@snippet lang = java :
 * ExecutorService pool = ContextExecutors.wrap(Executors.newFixedThreadPool(4));
 *
 * ThreadContext.put("request_id", "r-42");
 * pool.submit(() -> log.info("charged"));   // logged with request_id=r-42, on a pool thread
 * }
 *
 * <h2>Activation</h2>
 *
 * Putting {@code contextvars4j-log4j2} on the class (or module) path is enough with log4j-core: the
 * module supplies the Log4j property {@code log4j2.threadContextMap} with this class's name, as a
 * default that every other property source overrides (system properties, environment variables,
 * {@code log4j2.component.properties}). Setting {@code
 * -Dlog4j2.threadContextMap=org.contextvars4j.log4j2.ContextThreadContextMap} does the same
 * explicitly; {@code -Dlog4j2.threadContextMap=WebApp} (or {@code GarbageFree}) brings Log4j's own
 * map back. Log4j reads {@code log4j2.threadContextMap} before {@code
 * log4j2.garbagefree.threadContextMap}, so the latter alone no longer selects a map, while {@code
 * log4j2.disableThreadContextMap} and {@code log4j2.disableThreadContext} still win. Log4j makes one
 * instance and uses it for the whole {@link ThreadContext} ({@link
 * ThreadContext#getThreadContextMap()} returns it). Each instance has its own variable, so two
 * instances never see each other's entries. With {@code log4j-to-slf4j} instead of log4j-core,
 * Log4j sends the {@code ThreadContext} to SLF4J's {@code MDC} and never uses this class; use
 * {@code contextvars4j-logback} there.
 *
 * <h2>Differences from Log4j's own maps</h2>
 *
 * <ul>
 *   <li><b>A new thread starts with an empty map</b>, as PEP 567 starts a thread in an empty
 *       context, whatever {@code log4j2.isThreadContextMapInheritable} says (Log4j's option to let
 *       a child thread inherit its parent's map is ignored). A thread gets its starter's map when
 *       it is started through {@code ContextThreads} (or under the contextvars4j agent), and work
 *       handed to a wrapped executor or future gets a copy of the submitter's.
 *   <li>{@link #getReadOnlyContextData()} returns the stored immutable value itself, so a log
 *       event takes the map without a copy (this class implements Log4j's {@link CopyOnWrite}
 *       marker, which tells log4j-core so).
 *   <li>{@link #getImmutableMapOrNull()} returns a view of that value, not a copy; {@code null}
 *       when the map is empty.
 *   <li>Only the map follows the context. Log4j's {@code ThreadContext} <i>stack</i> ({@code
 *       ThreadContext.push}/{@code pop}, {@code %x}) is no {@code ThreadContextMap}: Log4j keeps it
 *       in a {@code ThreadLocal} of its own, which it offers no way to replace.
 * </ul>
 *
 * <h2>Null keys and values</h2>
 *
 * As with Log4j's {@code DefaultThreadContextMap}, values may be {@code null} ({@code put(key,
 * null)} binds the key to {@code null}) and a method that adds an entry throws {@link
 * NullPointerException} for a {@code null} key; here the check covers every key of {@link
 * #putAll} before anything changes. Methods that only read or remove treat a {@code null} key as
 * absent (they return {@code null} or {@code false}, or do nothing), which is what Log4j's map does
 * whenever it does not throw. Whenever a method throws, the map is unchanged.
 *
 * <h2>Thread safety</h2>
 *
 * Thread-safe: every method reads or sets the calling thread's current context, and the values it
 * stores are immutable, so a thread never sees another thread's entries except through a {@link
 * Context} handed over on purpose. The {@link StringMap} of {@link #getReadOnlyContextData()} and
 * the map of {@link #getImmutableMapOrNull()} are immutable snapshots that may be passed to any
 * thread.
 *
 * @implNote A change ({@link #put}, {@link #remove}, ...) is one {@link ContextVar#set} of a new
 *     immutable map, and no set at all when nothing changes. Up to 16 entries the map is one array
 *     of (key, value) pairs kept in key order, which a change copies (one array and one small
 *     object); above that it is a persistent hash array mapped trie that shares all but {@code
 *     O(log32 n)} nodes with the old map, and it returns to an array when removals leave 8 entries.
 *     {@link #get}, {@link #containsKey} and {@link #getReadOnlyContextData()} are a variable read
 *     (and a scan of at most 16 keys, identity first, or a trie lookup), allocation-free. The
 *     map's entries in key order, which {@code %X} and {@code %mdc} print, are the array itself; a
 *     trie's are sorted once per distinct map, on first use, and shared by every event logged with
 *     it.
 * @since 0.1
 */
@SuppressWarnings("deprecation") // CopyOnWrite: deprecated in 2.24, still what log4j-core checks
public final class ContextThreadContextMap
    implements ThreadContextMap,
        ReadOnlyThreadContextMap,
        ThreadContextMap2,
        CleanableThreadContextMap,
        ObjectThreadContextMap,
        CopyOnWrite {

  // Every change replaces the value and drops the token: a set without one, which a run of
  // changes makes in one slot of the context (ContextAccess.bind). Null where the core's module
  // does not export its internal package to this class's module (this jar on the class path, the
  // core a named module): then a plain set, which the public API allows everywhere.
  private static final @Nullable ContextAccess ACCESS =
      ContextVar.class.getModule().isExported(
              "org.contextvars4j.internal", ContextThreadContextMap.class.getModule())
          ? ContextAccess.get()
          : null;

  // The whole state: one immutable value per context, EMPTY where nothing was put.
  private final ContextVar<FrozenContextData> data =
      ContextVar.named("log4j2.ThreadContext", FrozenContextData.EMPTY);

  /**
   * Creates a map that is empty in every context. Log4j calls it once, when it selects this class
   * for the {@link ThreadContext}.
   */
  public ContextThreadContextMap() {}

  /** Checks a key that is to be added; the message says what to do. */
  static String requireKey(@Nullable String key) {
    return Objects.requireNonNull(
        key,
        "A ThreadContext key may not be null (Log4j's own map rejects it too); the ThreadContext"
            + " is unchanged");
  }

  private void update(FrozenContextData old, FrozenContextData changed) {
    // No set when nothing changed: a put of the same value, a remove of an absent key.
    if (changed != old) {
      ContextAccess access = ACCESS;
      if (access != null) {
        access.bind(data, changed);
      } else {
        data.set(changed);
      }
    }
  }

  /* ---- ThreadContextMap ---- */

  /**
   * Puts {@code value} under {@code key} in the current context's map.
   *
   * @param key the key; not {@code null}
   * @param value the value; may be {@code null}, which binds the key to {@code null}
   * @throws NullPointerException if {@code key} is {@code null}; the map is then unchanged
   */
  @Override
  public void put(String key, @Nullable String value) {
    requireKey(key);
    FrozenContextData current = data.get();
    update(current, current.with(key, value));
  }

  /**
   * {@return the value of {@code key} in the current context's map, or {@code null} if there is
   * none} A value stored by {@link #putValue} that is not a {@code String} is returned as its
   * {@code toString()}.
   *
   * @param key the key; {@code null} is never bound
   */
  @Override
  public @Nullable String get(@Nullable String key) {
    return data.get().getText(key);
  }

  /**
   * Removes {@code key} from the current context's map.
   *
   * @param key the key; an absent or {@code null} key changes nothing
   */
  @Override
  public void remove(@Nullable String key) {
    if (key != null) {
      FrozenContextData current = data.get();
      update(current, current.without(key));
    }
  }

  /** Removes every entry from the current context's map; other contexts keep theirs. */
  @Override
  public void clear() {
    update(data.get(), FrozenContextData.EMPTY);
  }

  /**
   * {@return whether {@code key} is bound in the current context's map (also to {@code null})}
   *
   * @param key the key; {@code null} is never bound
   */
  @Override
  public boolean containsKey(@Nullable String key) {
    return data.get().containsKey(key);
  }

  /**
   * {@return a new mutable {@code HashMap} with the current context's entries} Changing it does not
   * change the map, and changes of the map do not reach it.
   */
  @Override
  public Map<String, String> getCopy() {
    return data.get().toMap();
  }

  /**
   * {@return an immutable snapshot of the current context's map, or {@code null} if it is empty}
   * It is a view of the stored immutable value, not a copy, made once per value; later changes of
   * the map do not reach it. (If {@link #putValue} stored values that are no {@code String}s, it is
   * instead a copy with their {@code toString()}, also made once per value.)
   */
  @Override
  public @Nullable Map<String, String> getImmutableMapOrNull() {
    FrozenContextData current = data.get();
    if (current.isEmpty()) {
      return null;
    }
    return current.asStringMap(); // values may be null, as in Log4j's own maps
  }

  /** {@return whether the current context's map is empty} */
  @Override
  public boolean isEmpty() {
    return data.get().isEmpty();
  }

  /* ---- ThreadContextMap2, CleanableThreadContextMap ---- */

  /**
   * Puts every entry of {@code map} in the current context's map, as one change.
   *
   * @param map the entries; values may be {@code null}, keys may not
   * @throws NullPointerException if {@code map} or one of its keys is {@code null}; the map is
   *     then unchanged (no entry of {@code map} was put)
   */
  @Override
  public void putAll(Map<String, String> map) {
    Objects.requireNonNull(map, "map");
    FrozenContextData current = data.get();
    update(current, current.withAll(map));
  }

  /**
   * Removes every one of {@code keys} from the current context's map, as one change.
   *
   * @param keys the keys; absent and {@code null} keys are skipped
   * @throws NullPointerException if {@code keys} is {@code null}
   */
  @Override
  public void removeAll(Iterable<String> keys) {
    Objects.requireNonNull(keys, "keys");
    FrozenContextData current = data.get();
    update(current, current.withoutAll(keys));
  }

  /**
   * Returns the current context's map as a frozen {@link StringMap}: the stored immutable value
   * itself, not a copy. Its mutators throw {@link UnsupportedOperationException}; later changes of
   * the map make a new value and do not reach it, so it may be kept and passed to any thread.
   *
   * @return the current context's map, frozen
   * @implNote A variable read: no allocation, no copy.
   */
  @Override
  public StringMap getReadOnlyContextData() {
    return data.get();
  }

  /* ---- ObjectThreadContextMap ---- */

  /**
   * {@return the value of {@code key} in the current context's map, or {@code null} if there is
   * none}
   *
   * @param key the key; {@code null} is never bound
   * @param <V> the type the caller expects; the value is cast to it unchecked
   */
  @Override
  public <V> @Nullable V getValue(@Nullable String key) {
    return data.get().getValue(key);
  }

  /**
   * Puts {@code value}, of any type, under {@code key} in the current context's map. Text views
   * ({@link #get}, {@link #getCopy}, {@code %X}) show it as its {@code toString()}.
   *
   * @param key the key; not {@code null}
   * @param value the value; may be {@code null}
   * @param <V> the type of the value
   * @throws NullPointerException if {@code key} is {@code null}; the map is then unchanged
   */
  @Override
  public <V> void putValue(String key, @Nullable V value) {
    requireKey(key);
    FrozenContextData current = data.get();
    update(current, current.with(key, value));
  }

  /**
   * Puts every entry of {@code values} in the current context's map, as one change.
   *
   * @param values the entries; values may be {@code null}, keys may not
   * @param <V> the type of the values
   * @throws NullPointerException if {@code values} or one of its keys is {@code null}; the map is
   *     then unchanged
   */
  @Override
  public <V> void putAllValues(Map<String, V> values) {
    Objects.requireNonNull(values, "values");
    FrozenContextData current = data.get();
    update(current, current.withAll(values));
  }

  /* ---- Object ---- */

  /** {@return the current context's map, in key order, as {@code {k1=v1, k2=v2}}} */
  @Override
  public String toString() {
    return data.get().toString();
  }
}
