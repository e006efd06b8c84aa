package org.contextvars4j.log4j2.internal;

import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.apache.logging.log4j.util.BiConsumer;
import org.apache.logging.log4j.util.PropertySource;
import org.contextvars4j.log4j2.ContextThreadContextMap;
import org.jspecify.annotations.Nullable;

/**
 * The Log4j {@link PropertySource} that makes {@link ContextThreadContextMap} Log4j's {@code
 * ThreadContext} map with the dependency alone: it supplies one property, {@value #NAME} {@code =}
 * {@code org.contextvars4j.log4j2.ContextThreadContextMap}, which log4j-core's provider reads when
 * it creates the map. Log4j finds it with {@link java.util.ServiceLoader} ({@code META-INF/services}
 * on the class path, {@code provides} on the module path).
 *
 * <p>It has the lowest precedence there is, {@link Integer#MAX_VALUE} (Log4j searches sources in
 * ascending priority: Log4j's own system properties 0, environment variables 100, {@code
 * log4j2.component.properties} 200), so the property is only a default: any other source that
 * sets it wins, e.g. {@code -Dlog4j2.threadContextMap=WebApp}.
 *
 * <p>This class is internal and is hence not for public use. Its APIs are unstable and can change
 * at any time. The package is not exported by the module. The class is stateless and thread-safe.
 */
public final class ThreadContextMapPropertySource implements PropertySource {

  /** The property, in the normal form that Log4j's own sources use. */
  static final String NAME = "log4j2.threadContextMap";

  /** Its value: the map of this module. */
  static final String VALUE = "org.contextvars4j.log4j2.ContextThreadContextMap";

  /** Log4j's tokens of {@link #NAME} ({@code PropertySource.Util.tokenize}), lower case. */
  private static final List<String> TOKENS = List.of("thread", "context", "map");

  /** For {@link java.util.ServiceLoader}. */
  public ThreadContextMapPropertySource() {}

  /**
   * {@return {@link Integer#MAX_VALUE}: this source is searched last, so every other one wins}
   */
  @Override
  public int getPriority() {
    return Integer.MAX_VALUE;
  }

  /**
   * {@return {@value #NAME} for its tokens {@code [thread, context, map]}, else {@code null}}
   * Log4j looks up the name a source returns here, then the name as asked.
   *
   * @param tokens the lower-case tokens of the property name Log4j is asked for
   */
  @Override
  public @Nullable CharSequence getNormalForm(Iterable<? extends CharSequence> tokens) {
    Iterator<? extends CharSequence> it = tokens.iterator();
    for (String expected : TOKENS) {
      if (!it.hasNext() || !expected.contentEquals(it.next())) {
        return null;
      }
    }
    return it.hasNext() ? null : NAME;
  }

  /**
   * {@return the class name of {@link ContextThreadContextMap} for {@value #NAME}, else {@code
   * null}}
   *
   * @param key a property name
   */
  @Override
  public @Nullable String getProperty(String key) {
    return NAME.equals(key) ? VALUE : null;
  }

  /**
   * {@return whether {@code key} is {@value #NAME}}
   *
   * @param key a property name
   */
  @Override
  public boolean containsProperty(String key) {
    return NAME.equals(key);
  }

  /**
   * Passes the one property to {@code action}.
   *
   * @param action what to call with the name and the value
   */
  @Override
  public void forEach(BiConsumer<String, String> action) {
    action.accept(NAME, VALUE);
  }

  /** {@return the one property name, {@value #NAME}} */
  @Override
  public Collection<String> getPropertyNames() {
    return Set.of(NAME);
  }

  /** {@return a description, for Log4j's status messages} */
  @Override
  public String toString() {
    return "contextvars4j-log4j2 defaults {" + NAME + "=" + VALUE + "}";
  }
}
