package org.qtale.adaptive;

/**
 * Decides from a router's probability whether a routed layer runs for a token. Layers without a router and the
 * reserved first positions always run; the policy is asked only about the others.
 */
public sealed interface ExecutionPolicy {
    /** Whether a routed layer executes for a token whose router gave {@code pExec}. */
    boolean executes(float pExec);

    /** Every layer runs; routers are not evaluated. */
    record Dense() implements ExecutionPolicy {
        @Override
        public boolean executes(float pExec) {
            return true;
        }
    }

    /** QTALE's post-training control: execute iff {@code p_exec ≥ θ}; θ = 0.5 is D-LLM's argmax (ties execute). */
    record Threshold(float theta) implements ExecutionPolicy {
        public Threshold {
            if (!(theta >= 0 && theta <= 1)) {
                throw new org.qtale.QtaleException("The execution threshold θ must be in [0, 1], got " + theta + ".");
            }
        }

        @Override
        public boolean executes(float pExec) {
            return pExec >= theta;
        }
    }

    static ExecutionPolicy dense() {
        return new Dense();
    }

    /** D-LLM's inference rule. */
    static ExecutionPolicy argmax() {
        return new Threshold(RouterConfig.ARGMAX_THRESHOLD);
    }

    static ExecutionPolicy threshold(float theta) {
        return new Threshold(theta);
    }
}
