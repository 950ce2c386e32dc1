package org.qtale.train.optim;

import java.util.List;
import org.qtale.train.nn.Param;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter): {@code θ ← θ − lr · (m̂ / (√v̂ + ε) + wd · θ)}, the decay
 * only on matrices, never on vectors such as norm weights.
 */
public final class AdamW {
    private final List<Param> params;
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final float weightDecay;
    private final float[][] m;
    private final float[][] v;
    private long step;

    public AdamW(List<Param> params, float beta1, float beta2, float epsilon, float weightDecay) {
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        this.m = new float[params.size()][];
        this.v = new float[params.size()][];
        for (int i = 0; i < params.size(); i++) {
            m[i] = new float[params.get(i).size()];
            v[i] = new float[params.get(i).size()];
        }
    }

    /** Applies one update with learning rate {@code lr} from the gradients currently accumulated. */
    public void step(float lr) {
        step++;
        float correction1 = (float) (1 - Math.pow(beta1, step));
        float correction2 = (float) (1 - Math.pow(beta2, step));
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            float decay = p.isMatrix() ? weightDecay : 0f;
            float[] value = p.value();
            float[] grad = p.grad();
            float[] mi = m[i];
            float[] vi = v[i];
            for (int j = 0; j < value.length; j++) {
                float g = grad[j];
                mi[j] = beta1 * mi[j] + (1 - beta1) * g;
                vi[j] = beta2 * vi[j] + (1 - beta2) * g * g;
                float mHat = mi[j] / correction1;
                float vHat = vi[j] / correction2;
                value[j] -= lr * (mHat / ((float) Math.sqrt(vHat) + epsilon) + decay * value[j]);
            }
        }
    }

    /** Updates applied so far. */
    public long steps() {
        return step;
    }

    /** First-moment state of parameter {@code i} (for checkpoints). */
    public float[] firstMoment(int i) {
        return m[i];
    }

    /** Second-moment state of parameter {@code i} (for checkpoints). */
    public float[] secondMoment(int i) {
        return v[i];
    }

    /** Restores the state saved from an optimizer over the same parameters. */
    public void restore(long steps, float[][] firstMoments, float[][] secondMoments) {
        for (int i = 0; i < params.size(); i++) {
            System.arraycopy(firstMoments[i], 0, m[i], 0, m[i].length);
            System.arraycopy(secondMoments[i], 0, v[i], 0, v[i].length);
        }
        this.step = steps;
    }

    public List<Param> params() {
        return params;
    }
}
