package org.contextvars4j.agent.internal;

import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Replaces, in the matched methods, each call of one no-argument {@code void} instance method
 * (say {@code Runnable.run()} on a task) by a call of a static method of {@link Propagation} that
 * takes the receiver (say {@code Propagation.runTaken(Runnable)}). The stack is the same before
 * and after the call, so nothing else in the method changes.
 *
 * <p>A plain visitor rather than Byte Buddy's member substitution: the call is named exactly in
 * the JDK's class file, and the substitution would resolve every call of the method through a
 * type hierarchy, which at start-up costs more than all the agent's advice.
 *
 * <p>Immutable and thread-safe.
 */
final class CallRedirect {
  private CallRedirect() {}

  /**
   * {@return a visitor that redirects the calls}
   *
   * @param methods the methods whose calls are redirected
   * @param opcode {@link Opcodes#INVOKEINTERFACE} or {@link Opcodes#INVOKEVIRTUAL}
   * @param owner the internal name of the called method's class, as the class file names it
   * @param name the called method's name, whose descriptor is {@code ()V}
   * @param target the name of the static method of {@link Propagation} called instead, which
   *     takes an {@code owner} and returns nothing
   */
  static AsmVisitorWrapper of(
      ElementMatcher<? super MethodDescription> methods,
      int opcode,
      String owner,
      String name,
      String target) {
    String propagation = Propagation.class.getName().replace('.', '/');
    String targetDescriptor = "(L" + owner + ";)V";
    return new AsmVisitorWrapper.ForDeclaredMethods()
        .method(
            methods,
            (instrumentedType, method, visitor, context, pool, writerFlags, readerFlags) ->
                new MethodVisitor(Opcodes.ASM9, visitor) {
                  @Override
                  public void visitMethodInsn(
                      int calledOpcode,
                      String calledOwner,
                      String calledName,
                      String descriptor,
                      boolean isInterface) {
                    if (calledOpcode == opcode
                        && calledOwner.equals(owner)
                        && calledName.equals(name)
                        && descriptor.equals("()V")) {
                      super.visitMethodInsn(
                          Opcodes.INVOKESTATIC, propagation, target, targetDescriptor, false);
                    } else {
                      super.visitMethodInsn(
                          calledOpcode, calledOwner, calledName, descriptor, isInterface);
                    }
                  }
                });
  }
}
