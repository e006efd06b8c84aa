/**
 * The SLF4J MDC, kept in the current {@link org.contextvars4j.Context}: {@link
 * org.contextvars4j.slf4j.ContextMDCAdapter}. A backend installs it (as {@code
 * contextvars4j-logback} does); every value put in the MDC then follows the context wherever
 * contextvars4j carries it, and never outlives it.
 *
 * <p>Types in this package are non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package org.contextvars4j.slf4j;

import org.jspecify.annotations.NullMarked;
