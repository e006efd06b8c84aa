package org.contextvars4j.opentelemetry;

import io.opentelemetry.context.ContextStorage;
import io.opentelemetry.context.ContextStorageProvider;

/**
 * An OpenTelemetry {@link ContextStorageProvider} whose storage keeps OpenTelemetry's current
 * {@link io.opentelemetry.context.Context} in a {@link org.contextvars4j.ContextVar}: the current
 * span and baggage live in the current {@link org.contextvars4j.Context}, so one {@link
 * org.contextvars4j.Context#copyCurrent()} carries them with every other variable, and the
 * executors, futures and threads of {@code org.contextvars4j.concurrent} carry spans without
 * OpenTelemetry's {@code Context.taskWrapping}.
 *
 * <h2>Activation</h2>
 *
 * The dependency alone: the module registers this class for OpenTelemetry's service lookup
 * ({@code META-INF/services} and the module's {@code provides}), which OpenTelemetry uses when it
 * is the only provider found; with several, select it with {@code
 * -Dio.opentelemetry.context.contextStorageProvider=org.contextvars4j.opentelemetry.ContextVarsStorageProvider}.
 * Wrappers added with {@link ContextStorage#addWrapper} wrap this storage as they wrap
 * OpenTelemetry's own. In tests that use OpenTelemetry's {@code SettableContextStorageProvider},
 * set {@link #storage()} on it.
 *
 * <h2>gRPC</h2>
 *
 * With gRPC's own {@code io.grpc:grpc-context-override-opentelemetry} on the class path, gRPC
 * stores its {@code io.grpc.Context} (values, deadlines, cancellation) in OpenTelemetry's context,
 * so in this storage: the same copies and wrappers carry it. No gRPC module of contextvars4j's is
 * needed.
 *
 * <h2>Behaviour</h2>
 *
 * As OpenTelemetry's default storage: {@code Context.current()} is {@code Context.root()} where
 * nothing is attached (a new thread, a new {@code org.contextvars4j.Context}); {@code
 * makeCurrent()} of the context already current returns a scope that does nothing; closing a scope
 * that does not represent the current context, or closing it twice, is ignored and logged at
 * {@code FINE} on this class's logger. With {@code -Dcontextvars4j.opentelemetry.strict=true}
 * such a close throws {@link IllegalStateException} instead, naming the thread and the place
 * where the scope was opened. A scope closed in another {@code org.contextvars4j.Context} than the
 * one it was opened in (a copy, say) while its context is current there restores what was current
 * before it, as OpenTelemetry's thread-local storage would.
 *
 * <h2>Thread safety</h2>
 *
 * Thread-safe; the storage is one shared, stateless instance: its state is per {@code
 * org.contextvars4j.Context}. A scope belongs to the thread that opened it, as OpenTelemetry's do.
 */
public final class ContextVarsStorageProvider implements ContextStorageProvider {

  /** Creates the provider; OpenTelemetry's service lookup calls this. */
  public ContextVarsStorageProvider() {}

  /** {@return the storage: one instance for the whole JVM, whose state lives in the contexts} */
  @Override
  public ContextStorage get() {
    return storage();
  }

  /**
   * {@return the storage, for code that installs it by hand} For instance, in tests that use
   * OpenTelemetry's {@code SettableContextStorageProvider}: {@code
   * SettableContextStorageProvider.setContextStorage(ContextVarsStorageProvider.storage())}.
   */
  public static ContextStorage storage() {
    return ContextVarsStorage.INSTANCE;
  }
}
