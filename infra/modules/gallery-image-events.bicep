// Optional: delivers "a gallery image version was written" events of this subscription to the app's Event Grid
// trigger (function baseImageEvent), so that a new version of a gallery source image starts a build. Uses the
// subscription's Event Grid system topic (only one may exist per subscription: reuse it when it does).
param systemTopicName string

@description('Name of the event subscription: unique per environment, because the system topic is shared by every environment of the subscription.')
@minLength(3)
@maxLength(64)
param eventSubscriptionName string

@description('Create the system topic (false: it exists already in this resource group).')
param createSystemTopic bool

@description('Resource id of the Event Grid triggered function: <function app id>/functions/<name>.')
param functionResourceId string

param tags object

resource newTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = if (createSystemTopic) {
  name: systemTopicName
  location: 'global'
  tags: tags
  properties: {
    source: subscription().id
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource galleryVersions 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: eventSubscriptionName
  properties: {
    // The AzureFunction endpoint is resolved by Event Grid through ARM: no webhook URL or key to manage.
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: functionResourceId
        maxEventsPerBatch: 1
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: ['Microsoft.Resources.ResourceWriteSuccess']
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.operationName'
          values: ['Microsoft.Compute/galleries/images/versions/write']
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
  dependsOn: [newTopic]
}

output eventSubscriptionId string = galleryVersions.id
