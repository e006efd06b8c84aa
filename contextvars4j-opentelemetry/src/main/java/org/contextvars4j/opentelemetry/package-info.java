/**
 * OpenTelemetry's current {@code Context} (the current span, the baggage) kept in the current
 * {@link org.contextvars4j.Context}: {@link
 * org.contextvars4j.opentelemetry.ContextVarsStorageProvider}, found by OpenTelemetry's service
 * lookup with the dependency alone.
 *
 * <p>Types in this package are non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package org.contextvars4j.opentelemetry;

import org.jspecify.annotations.NullMarked;
