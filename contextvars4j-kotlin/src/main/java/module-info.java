/**
 * contextvars4j for Kotlin coroutines: {@code org.contextvars4j.kotlin.ContextElement} runs each
 * coroutine as an asyncio task, in a context of its own.
 */
module org.contextvars4j.kotlin {
  requires transitive org.contextvars4j;
  requires transitive kotlin.stdlib;
  requires transitive kotlinx.coroutines.core;

  exports org.contextvars4j.kotlin;
}
