// Defaults and limits exactly as the core/v1 API defaults them (SetDefaults_Probe).
/** A probe's periodSeconds when unset. */
export const DEFAULT_PERIOD_SECONDS = 10;
/** A probe's timeoutSeconds when unset. */
export const DEFAULT_TIMEOUT_SECONDS = 1;
/** A probe's successThreshold when unset. */
export const DEFAULT_SUCCESS_THRESHOLD = 1;
/** A probe's failureThreshold when unset. */
export const DEFAULT_FAILURE_THRESHOLD = 3;
/** A probe's initialDelaySeconds when unset. */
export const DEFAULT_INITIAL_DELAY_SECONDS = 0;

/** The kubelet keeps at most this much probe output (probe.maxRespBodyLength / exec LimitWriter). */
export const MAX_PROBE_OUTPUT_BYTES = 10 * 1024;

/** HTTP probes follow at most this many redirects, like Go's http.Client. */
export const MAX_HTTP_REDIRECTS = 10;

/** Version reported in the `kube-probe/<major>.<minor>` User-Agent. */
export const DEFAULT_PROBE_USER_AGENT = 'kube-probe/1.36';
