/**
 * The Log4j property source that selects {@link org.contextvars4j.log4j2.ContextThreadContextMap}
 * with the dependency alone. Not exported; not for public use.
 */
@NullMarked
package org.contextvars4j.log4j2.internal;

import org.jspecify.annotations.NullMarked;
