// stowawayScan: a Jenkins shared-library step that scans a container image with Stowaway,
// publishes the reports on the build page and blocks the build when the policy says so.
// Help (shown under "Global Variables Reference"): stowawayScan.txt beside this file.
//
//   stowawayScan(image: "app:${env.BUILD_NUMBER}", failOn: 'malware,secret,vuln:critical')
//   stowawayScan(image: 'image.tar')                               // a docker save tar or OCI layout
//   stowawayScan(image: 'ns/app:1.4', server: 'registry.example.com',
//                credentialsId: 'registry-reader')                 // straight from the registry
//
// Returns stowaway's exit code: 0 passed; 1 blocked, when onBlock is 'unstable' or 'return'.
// Throws (fails the build) when the image is blocked and onBlock is 'error' (the default), and
// whenever stowaway cannot scan (exit 2) or does not run at all.

def call(Map args = [:]) {
    List<String> known = ['image', 'failOn', 'server', 'credentialsId', 'insecure', 'platform',
                          'config', 'vex', 'ignoreUnfixed', 'allowEngineFailure', 'clamd',
                          'dbDir', 'dbMirror', 'updateDb', 'skipVulns', 'reportDir', 'publish',
                          'onBlock']
    for (String key in args.keySet()) {
        if (!known.contains(key)) {
            error("stowawayScan: unknown parameter '${key}' (known: ${known.join(', ')})")
        }
    }
    String image = args.image
    if (!image) {
        error('stowawayScan: image is required: an image name, a docker save tar or OCI layout, or with server a repository in that registry')
    }
    String onBlock = args.onBlock ?: 'error'
    if (!['error', 'unstable', 'return'].contains(onBlock)) {
        error("stowawayScan: onBlock must be 'error', 'unstable' or 'return', not '${onBlock}'")
    }
    boolean publish = args.publish == null ? true : args.publish
    boolean updateDb = args.updateDb == null ? !args.skipVulns : args.updateDb
    String label = image.replaceAll('[^A-Za-z0-9._-]+', '-')
    String dir = args.reportDir ?: "stowaway-reports/${label}"

    // What to scan: a reference in the registry, a file or directory in the workspace, or an
    // image of the agent's Docker daemon, saved into the report directory first.
    String target
    boolean saved = false
    if (args.server) {
        target = image.startsWith("${args.server}/") ? image : "${args.server}/${image}"
    } else if (fileExists(image)) {
        target = image
    } else {
        target = "${dir}/image.tar"
        sh(label: "docker save ${image}",
           script: "mkdir -p ${q(dir)} && docker save ${q(image)} -o ${q(target)}")
        saved = true
    }

    List<String> dbArgs = []
    if (args.dbDir) {
        dbArgs << "--db-dir ${q(args.dbDir)}"
    }
    if (updateDb) {
        List<String> updateArgs = new ArrayList<String>(dbArgs)
        if (args.dbMirror) {
            updateArgs << "--mirror ${q(args.dbMirror)}"
        }
        // Only what changed is downloaded; a failed update keeps the previous database, and the
        // report states its age.
        catchError(buildResult: 'SUCCESS', stageResult: 'UNSTABLE',
                   message: 'stowaway db update failed: scanning with the previous database') {
            sh(label: 'stowaway db update', script: "stowaway db update ${updateArgs.join(' ')}")
        }
    }

    // Every option is a flag of `stowaway scan`; the values are quoted for the shell.
    List<String> scanArgs = new ArrayList<String>(dbArgs)
    if (args.failOn) {
        scanArgs << "--fail-on ${q(args.failOn)}"
    }
    if (args.config) {
        scanArgs << "--config ${q(args.config)}"
    }
    List vexFiles = args.vex instanceof List ? args.vex : (args.vex ? [args.vex] : [])
    for (def vex in vexFiles) {
        scanArgs << "--vex ${q(vex)}"
    }
    if (args.ignoreUnfixed) {
        scanArgs << '--ignore-unfixed'
    }
    if (args.allowEngineFailure) {
        scanArgs << '--allow-engine-failure'
    }
    if (args.clamd) {
        scanArgs << "--clamd ${q(args.clamd)}"
    }
    if (args.skipVulns) {
        scanArgs << '--skip-vulns'
    }
    if (args.platform) {
        scanArgs << "--platform ${q(args.platform)}"
    }
    if (args.insecure) {
        if (!args.server) {
            error('stowawayScan: insecure needs server (the registry host to reach over plain http)')
        }
        scanArgs << "--insecure-registry ${q(args.server.toString().replaceAll('/.*$', ''))}"
    }
    if (args.credentialsId) {
        // The password reaches stowaway through the environment, never the command line.
        scanArgs << '--registry-username "$STOWAWAY_REGISTRY_USERNAME"'
    }

    String formats = "table,junit=${dir}/stowaway-junit.xml,html=${dir}/stowaway-report.html," +
                     "sarif=${dir}/stowaway.sarif,json=${dir}/stowaway.json"
    String stderrFile = "${dir}/stowaway-stderr.txt"
    String command = """mkdir -p ${q(dir)}
stowaway scan ${q(target)} --format ${q(formats)} ${scanArgs.join(' ')} 2> ${q(stderrFile)}"""

    int status
    if (args.credentialsId) {
        withCredentials([usernamePassword(credentialsId: args.credentialsId,
                                          usernameVariable: 'STOWAWAY_REGISTRY_USERNAME',
                                          passwordVariable: 'STOWAWAY_REGISTRY_PASSWORD')]) {
            status = sh(label: "stowaway scan ${image}", returnStatus: true, script: command)
        }
    } else {
        status = sh(label: "stowaway scan ${image}", returnStatus: true, script: command)
    }
    if (saved) {
        sh(label: 'remove the saved image', script: "rm -f ${q(target)}")
    }
    String summary = fileExists(stderrFile) ? readFile(stderrFile).trim() : ''
    if (summary) {
        echo(summary)
    }

    if (publish) {
        // The exit code alone decides the build's result, so JUnit does not mark it by itself.
        junit(testResults: "${dir}/stowaway-junit.xml", allowEmptyResults: true, skipMarkingBuildUnstable: true)
        publishHTML(target: [
            reportName           : "Stowaway ${image}",
            reportDir            : dir,
            reportFiles          : 'stowaway-report.html',
            keepAll              : true,
            alwaysLinkToLastBuild: true,
            allowMissing         : true,
        ])
        recordIssues(enabledForFailure: true,
                     tools: [sarif(id: "stowaway-${label}", name: "Stowaway ${image}", pattern: "${dir}/stowaway.sarif")])
        archiveArtifacts(artifacts: "${dir}/*.xml,${dir}/*.html,${dir}/*.sarif,${dir}/*.json,${dir}/*.txt",
                         allowEmptyArchive: true, fingerprint: true)
    }

    if (status == 1) {
        String message = "Stowaway blocked ${image}:\n${summary}"
        if (onBlock == 'error') {
            error(message)
        }
        if (onBlock == 'unstable') {
            unstable(message)
        } else {
            echo(message)
        }
        return 1
    }
    if (status == 2) {
        error("stowaway scan could not scan ${image} (exit 2):\n${summary}")
    }
    if (status != 0) {
        error("stowaway scan ended with exit code ${status} for ${image} (not installed, or killed?):\n${summary}")
    }
    return 0
}

// A value as one shell word.
private static String q(Object value) {
    return "'" + value.toString().replace("'", "'\\''") + "'"
}
