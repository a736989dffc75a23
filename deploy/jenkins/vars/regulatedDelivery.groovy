// regulatedDelivery: the one governed delivery step every service's Jenkinsfile calls.
//
//   regulatedDelivery(service: 'checkout', env: 'dev',
//                     configRepo: 'https://github.com/acme/config.git')
//
// Runs `changeproof deliver` (test, build, SBOM, scan gate, push, sign, attest, propose) in an
// ephemeral agent pod that is thrown away afterwards. The pod mounts no Kubernetes service
// account token: the pipeline proposes a change to the config repo and never holds a cluster
// credential. Signing keys stay in the secret broker (Vault transit in connected mode); the run
// gets short leases that changeproof revokes when it ends.
//
// Parameters
//   service            (required) the service, as named in the config repo (apps/<service>)
//   env                (required) the environment whose overlay the proposal changes
//   configRepo         the config repo to clone and push the proposal branch to
//                      (default: the forge's repository from changeproof.yaml)
//   sign               must stay true: every delivered image is signed (fail closed)
//   scanPolicy         block-critical, block-high or warn; may only tighten the service's
//                      policy in changeproof.yaml, never loosen it (default: not passed, so
//                      the service's own configured policy applies)
//   image              ref@sha256:… of an image built elsewhere; skips test and build
//   sarif              list of SARIF files from other scanners for the scan gate
//   junit              JUnit XML report the service's tests write (default: junit.xml)
//   changeproofImage   the container image that carries the changeproof CLI
//   workspaceFile      Jenkins secret-file credential holding the CI workspace's changeproof.yaml
//   databaseUrl        Jenkins secret-text credential holding the ledger database URL
//   vaultToken         true to project a service-account token with audience `vault` at
//                      /var/run/secrets/vault/token, for Vault's Kubernetes auth (connected mode;
//                      set adapters.vault.serviceAccountTokenPath to it in changeproof.yaml)
def call(Map args = [:]) {
    def service = required(args, 'service')
    def environment = required(args, 'env')
    if (args.containsKey('sign') && args.sign != true) {
        error('regulatedDelivery: sign: false is refused; every delivered image is signed by the pipeline key')
    }
    // Unset means the service's own policy from changeproof.yaml; a default here would refuse a
    // block-high service (looser) and silently tighten a warn one.
    def scanPolicy = args.scanPolicy
    if (scanPolicy && !(scanPolicy in ['block-critical', 'block-high', 'warn'])) {
        error("regulatedDelivery: scanPolicy ${scanPolicy} is unknown; use block-critical, block-high or warn")
    }
    def changeproofImage = args.changeproofImage ?: 'ghcr.io/changeproof/changeproof:0.1.0'
    def workspaceFile = args.workspaceFile ?: 'changeproof-workspace'
    def databaseUrl = args.databaseUrl ?: 'changeproof-database-url'
    def junit = args.junit ?: 'junit.xml'

    podTemplate(yaml: agentPod(changeproofImage, args.vaultToken == true)) {
        node(POD_LABEL) {
            container('changeproof') {
                checkout scm
                // Jenkins checks out a detached HEAD; deliver wants the commit on its branch.
                sh 'git checkout -B "${BRANCH_NAME:-main}" "$(git rev-parse HEAD)"'
                withCredentials([
                    file(credentialsId: workspaceFile, variable: 'CHANGEPROOF_CONFIG_FILE'),
                    string(credentialsId: databaseUrl, variable: 'CHANGEPROOF_DATABASE'),
                ]) {
                    def flags = [
                        '--service', service,
                        '--env', environment,
                        '--source', '.',
                        '--junit', junit,
                        '--author', env.CHANGE_AUTHOR ?: 'pipeline',
                    ]
                    if (scanPolicy) flags += ['--scan-policy', scanPolicy]
                    if (args.configRepo) flags += ['--config-repo', args.configRepo]
                    if (args.image) flags += ['--image', args.image]
                    (args.sarif ?: []).each { flags += ['--sarif', it] }
                    sh '''
                        mkdir -p "$WORKSPACE_TMP/changeproof"
                        cp "$CHANGEPROOF_CONFIG_FILE" "$WORKSPACE_TMP/changeproof/changeproof.yaml"
                    '''
                    def result = sh(
                        script: "changeproof --workspace \"\$WORKSPACE_TMP/changeproof\" --database \"\$CHANGEPROOF_DATABASE\" deliver ${flags.collect { shellQuote(it as String) }.join(' ')}",
                        returnStdout: true,
                    ).trim()
                    writeFile(file: 'changeproof-delivery.json', text: result)
                    archiveArtifacts(artifacts: 'changeproof-delivery.json', fingerprint: true)
                    def delivery = readJSON(text: result)
                    currentBuild.description = "${delivery.image} -> proposal ${delivery.proposal.id}"
                    return delivery
                }
            }
        }
    }
}

// The agent pod: one container with the changeproof CLI and git, no service account token,
// non-root, read-only root filesystem. With `vaultToken`, a token projected with audience
// `vault`, which the Kubernetes API server does not accept, lets the broker log in to Vault.
private String agentPod(String image, boolean vaultToken) {
    def vaultVolume = vaultToken ? """
    - name: vault-token
      projected:
        sources:
          - serviceAccountToken:
              audience: vault
              expirationSeconds: 900
              path: token""" : ''
    def vaultMount = vaultToken ? """
        - name: vault-token
          mountPath: /var/run/secrets/vault
          readOnly: true""" : ''
    return """
apiVersion: v1
kind: Pod
spec:
  automountServiceAccountToken: false
  restartPolicy: Never
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
  containers:
    - name: changeproof
      image: ${image}
      command: ['sleep']
      args: ['infinity']
      env:
        - name: CHANGEPROOF_LOG_LEVEL
          value: info
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
      resources:
        requests: { cpu: 500m, memory: 512Mi }
        limits: { cpu: '2', memory: 2Gi }
      volumeMounts:
        - name: tmp
          mountPath: /tmp${vaultMount}
  volumes:
    - name: tmp
      emptyDir: {}${vaultVolume}
"""
}

private String required(Map args, String name) {
    if (!args[name]) error("regulatedDelivery: ${name} is required, e.g. regulatedDelivery(service: 'checkout', env: 'dev')")
    return args[name] as String
}

private String shellQuote(String value) {
    return "'" + value.replace("'", "'\"'\"'") + "'"
}
